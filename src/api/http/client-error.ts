import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { problem } from './problem.js';

/** How Node's HTTP parser says why it gave up on a request, and the problem each is answered with. */
function problemOfClientError(code: string | undefined) {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return problem(408, 'request-timeout', 'Request timeout', 'The request was not received in time.').problem;
  if (code === 'HPE_HEADER_OVERFLOW') return problem(431, 'headers-too-large', 'Request headers too large', 'The request headers exceed the size this server reads.').problem;
  return problem(400, 'malformed-request', 'Malformed HTTP request', 'The request is not valid HTTP/1.1 (its request line, a header, its length or its chunks).').problem;
}

/**
 * Answers a request that Node's HTTP parser refused (it never reaches Fastify's routes or Nest's filter)
 * with a problem document, as every other refusal is, instead of Fastify's own JSON: then closes the
 * connection, whose stream can no longer be read. Nothing of the request is repeated in the answer.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  // A connection reset, or already closed: there is no one to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const p = problemOfClientError(err.code);
  const body = JSON.stringify(p);
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${p.status} ${STATUS_CODES[p.status]}\r\nContent-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}
