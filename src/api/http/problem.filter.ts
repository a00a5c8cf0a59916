import { Catch, HttpException, NotFoundException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { isStoreUnavailable } from '../../storage/unavailable.js';
import { malformedBody, ProblemError, problem, storeUnavailable, type Problem } from './problem.js';

/** Turns any error from a framework-level failure into problem+json. Never a stack trace, never a request value. */
export function toProblem(error: unknown, log?: Logger): Problem {
  if (error instanceof ProblemError) return error.problem;
  const e = error as { statusCode?: number; code?: string; status?: number };
  const status = error instanceof HttpException ? error.getStatus() : (e.statusCode ?? e.status);
  if (status === 404) return problem(404, 'not-found', 'Not found', 'No such route or resource.').problem;
  if (status === 405) return problem(405, 'method-not-allowed', 'Method not allowed', 'This route does not accept that method.').problem;
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413)
    return problem(413, 'body-too-large', 'Request body too large', 'The body is larger than the limit of 8 MiB; send smaller batches.').problem;
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415)
    return problem(415, 'unsupported-media-type', 'Unsupported media type', 'Send the body as application/json.').problem;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return malformedBody('The body is not valid JSON.').problem;
  if (isStoreUnavailable(error)) {
    log?.warn({ err: { name: (error as Error).name, message: (error as Error).message, code: e.code } }, 'the store cannot serve now');
    return storeUnavailable().problem;
  }
  log?.error({ err: { name: (error as Error)?.name, message: (error as Error)?.message, code: e.code } }, 'unexpected error');
  return problem(500, 'internal', 'Internal error', 'The request failed unexpectedly; nothing is reported back.').problem;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

/**
 * The methods another route serves the missed request's path with: a path the ledger serves, asked with a
 * method it does not take, is a 405 naming the methods it does (RFC 9110 §15.5.6), not a 404.
 */
function otherMethods(req: FastifyRequest): string[] {
  const path = req.url.split('?', 1)[0]!;
  return METHODS.filter((m) => m !== req.method && req.server.findRoute({ method: m, url: path }) !== null);
}

/** Seconds a client refused with 503 (the store unavailable, the server stopping) is asked to wait before it tries again. */
export const RETRY_AFTER_SECONDS = 2;

export function sendProblem(reply: FastifyReply, p: Problem) {
  if (p.status === 503) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  void reply.status(p.status).header('content-type', 'application/problem+json; charset=utf-8').send(JSON.stringify(p));
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly log?: Logger) {}
  catch(error: unknown, host: ArgumentsHost) {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    if (error instanceof NotFoundException) {
      // Nest's answer to a request no route matched (a missing resource is a ProblemError).
      const allow = otherMethods(http.getRequest<FastifyRequest>());
      if (allow.length > 0) {
        void reply.header('allow', allow.join(', '));
        return sendProblem(reply, problem(405, 'method-not-allowed', 'Method not allowed', `This route takes ${allow.join(', ')}.`, { allow }).problem);
      }
    }
    sendProblem(reply, toProblem(error, this.log));
  }
}
