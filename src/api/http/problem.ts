import type { FieldError } from '../../common/kernel/codec.js';
import type { DomainError } from '../../common/kernel/domain-error.js';

/** An RFC 9457 problem document. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors?: readonly FieldError[];
  readonly [extra: string]: unknown;
}

const TYPE_BASE = 'https://pdl.dev/problems/';

export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.title);
  }
}

export const problem = (status: number, slug: string, title: string, detail: string, extra: Record<string, unknown> = {}): ProblemError =>
  new ProblemError({ type: `${TYPE_BASE}${slug}`, title, status, detail, ...extra });

/** A body (HTTP) or message (gRPC) that cannot be parsed at all: one problem type, one title, whatever the transport. */
export const malformedBody = (detail: string): ProblemError => problem(400, 'malformed-body', 'Malformed request body', detail);

/** The store could not be reached (or refused the commit): nothing recorded, worth retrying. */
export const storeUnavailable = (): ProblemError =>
  problem(503, 'store-unavailable', 'The ledger store is unavailable', 'Nothing of this request was recorded; retry later.');

/** A request that reached the server while it drains before stopping (in-flight requests are finished). */
export const shuttingDown = (): ProblemError =>
  problem(503, 'shutting-down', 'The ledger is shutting down', 'Nothing of this request was recorded; send it again, to another instance or once this one is back.');

export const invalid = (errors: readonly FieldError[]): ProblemError =>
  problem(400, 'invalid-request', 'The request is not valid', `${errors.length} field${errors.length === 1 ? '' : 's'} failed validation: ${errors.slice(0, 3).map((e) => e.path).join(', ')}`, { errors });

/**
 * `what` named by the id it was asked by, when that id reads as one (letters, digits, `.`, `_`, `-`, `:`;
 * at most 64); else `what` alone: an id sent in a path may be anything, an e-mail address included, and
 * an error repeats nothing that may be personal data.
 */
const named = (what: string, id: string) => (/^[A-Za-z0-9_-][A-Za-z0-9._:-]{0,63}$/.test(id) ? `${what} "${id}"` : `such ${what}`);

/** The one mapping from domain errors to HTTP problems; exhaustive by construction. */
export function problemOf(e: DomainError): ProblemError {
  switch (e._tag) {
    case 'InvalidInput':
      return invalid(e.errors);
    case 'UnknownTenant':
      return problem(404, 'unknown-tenant', 'Unknown tenant', `There is no ${named('tenant', e.tenant)}.`);
    case 'ConflictingDuplicate':
      return problem(409, 'conflicting-duplicate', 'Event id already used for different content',
        `${e.eventIds.length} event id(s) were already recorded with different content; nothing of this batch was recorded.`, { eventIds: e.eventIds });
    case 'StoreUnavailable':
      return storeUnavailable();
    case 'ShuttingDown':
      return problem(503, 'shutting-down', 'The ledger is shutting down', 'Nothing of this request was recorded; retry on another instance or later.');
    case 'TokenNotFound':
      return problem(404, 'unknown-token', 'Unknown token', `There is no ${named('token', e.tokenId)} in this tenant.`);
    case 'DeclarationNotFound':
      return problem(404, 'unknown-declaration', 'Unknown declaration', `There is no ${named(e.kind.replace(/s$/, ''), e.id)}.`);
    case 'SystemNotAllowed':
      return problem(403, 'system-not-allowed', 'System not allowed for this token',
        `This token may only report for its own systems; not for: ${e.systems.join(', ')}. Nothing of this batch was recorded.`, { systems: e.systems });
    case 'EventNotFound':
      return problem(404, 'unknown-event', 'Unknown event', `There is no ${named('event', e.eventId)} in this tenant's log.`);
    case 'TreeSizeOutOfRange':
      return problem(400, 'tree-size-out-of-range', 'Tree size out of range', e.detail);
    case 'IntegrityViolation':
      return problem(409, 'integrity-violation', 'The stored log is not the log that was signed', e.detail);
    case 'RequestNotFound':
      return problem(404, 'unknown-request', 'Unknown request', `There is no ${named(`${e.kind} request`, e.id)} in this tenant.`);
    case 'SubjectNotFound':
      return problem(404, 'unknown-subject', 'Unknown subject', 'Nothing was recorded about this subject (up to the moment asked).');
    case 'RequestConflict':
      return problem(409, 'request-conflict', 'The request cannot do that now', e.detail, e.systems ? { systems: e.systems } : {});
    case 'SigningKeyManagedElsewhere':
      return problem(409, 'signing-key-from-environment', 'The signing key is set by PDL_SIGNING_KEY', 'Rotate it by changing PDL_SIGNING_KEY and restarting the ledger.');
  }
}
