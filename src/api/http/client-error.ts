import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { problem } from './problem.js';
import { sendProblem } from './problem.filter.js';

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

/**
 * Answers what Fastify's router refuses before any route runs (its `frameworkErrors`): a path with a
 * broken percent-escape, a path segment longer than the router reads. Fastify's own answer is not a
 * problem document and repeats the path, which may hold a subject's id.
 */
export function answerFrameworkError(error: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const p = error.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? problem(414, 'path-too-long', 'Path too long', 'A segment of the request path is longer than this server reads.')
    : problem(400, 'malformed-path', 'Malformed request path', 'The request path is not valid: a percent-escape in it is broken or not UTF-8.');
  sendProblem(reply, p.problem);
}
