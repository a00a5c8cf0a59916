import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';

/**
 * Structured JSON logs on stdout. Callers pass only technical facts (routes, statuses, counts,
 * token ids), never request bodies, query strings or identifiers.
 */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'pdl' }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** Routes Nest's own messages through the same JSON logger. */
export class NestJsonLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) { this.logger.info({ context }, String(message)); }
  error(message: unknown, trace?: string, context?: string) { this.logger.error({ context, trace }, String(message)); }
  warn(message: unknown, context?: string) { this.logger.warn({ context }, String(message)); }
  debug(message: unknown, context?: string) { this.logger.debug({ context }, String(message)); }
  verbose(message: unknown, context?: string) { this.logger.trace({ context }, String(message)); }
}
export const LOGGER = Symbol('Logger');
