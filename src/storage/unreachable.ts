/** Socket errors of a store that cannot be reached, or whose connection broke. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/**
 * PostgreSQL stopping or refusing connections (admin shutdown, crash shutdown, cannot connect now, too many
 * connections), or having ended this session for waiting too long inside a transaction (25P03: the process was
 * paused or cut off mid-append; see `IDLE_IN_TRANSACTION_MS`).
 */
const PG_STATES = new Set(['57P01', '57P02', '57P03', '53300', '25P03']);
/** What `pg` says when a connection ends under a query or cannot be made in time (errors without a code). */
const PG_MESSAGES = ['Connection terminated', 'timeout exceeded when trying to connect', 'Client has encountered a connection error'];

/**
 * Whether `e` says that the store could not be reached — a connection refused, reset or timed out;
 * PostgreSQL shutting down or refusing connections, or ending a session that waited too long inside a transaction (SQLSTATE class 08, 57P01–57P03, 53300, 25P03);
 * EventStoreDB unavailable — rather than that a request was wrong or the code failed. Such a failure is
 * answered 503 (retry later): until 2026-12-02 a request that met a broken PostgreSQL connection, its
 * token's look-up or a read, was answered 500.
 */
export function isStoreUnreachable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const { code, type } = e as { code?: unknown; type?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || PG_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  if (type === 'unavailable') return true; // @eventstore/db-client's UnavailableError
  return PG_MESSAGES.some((m) => e.message.startsWith(m));
}
