/** Socket errors of a store that cannot be reached, or whose connection broke. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/**
 * SQLSTATE classes of a PostgreSQL that cannot serve a request now, though the request was right: its
 * connection (08), a transaction rolled back to be tried again (40: serialization failure, deadlock),
 * its resources (53: disk full, out of memory, too many connections), an operator or a time-out of the
 * deployment's (57: shutting down, cannot connect now, statement cancelled by `statement_timeout`), the
 * server's system (58: I/O error).
 */
const PG_CLASSES = /^(08|40|53|57|58)[0-9A-Z]{3}$/;
/**
 * And these of other classes: a read-only server (25006: a standby, as after a fail-over), a session
 * ended for waiting inside a transaction (25P03: the process was paused or cut off mid-append, see
 * `IDLE_IN_TRANSACTION_MS`), a lock not had in time (55P03: `lock_timeout`).
 */
const PG_STATES = new Set(['25006', '25P03', '55P03']);
/** What `pg` says when a connection ends under a query or cannot be made in time (errors without a code). */
const PG_MESSAGES = ['Connection terminated', 'timeout exceeded when trying to connect', 'Client has encountered a connection error'];

/**
 * Whether `e` says that the store cannot serve the request now — cannot be reached, its connection
 * refused, reset or timed out; PostgreSQL shutting down, out of room, read-only, or past a time-out the
 * deployment set (see the SQLSTATEs above); EventStoreDB unavailable — rather than that the request was
 * wrong or the code failed. Such a failure is answered 503 (retry later). Until 2026-12-02 a request that
 * met a broken PostgreSQL connection, its token's look-up or a read, was answered 500; so was a read past
 * the `lock_timeout` or `statement_timeout` of the URL's `options`.
 */
export function isStoreUnavailable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const { code, type } = e as { code?: unknown; type?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || PG_STATES.has(code) || PG_CLASSES.test(code))) return true;
  if (type === 'unavailable') return true; // @eventstore/db-client's UnavailableError
  return PG_MESSAGES.some((m) => e.message.startsWith(m));
}
