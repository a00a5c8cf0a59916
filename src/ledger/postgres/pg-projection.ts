import type pg from 'pg';
import type { Writes } from '../../common/postgres/rows.js';
import type { RecordedEvent } from '../event-store.port.js';

export type AppliedEvent = { readonly recorded: RecordedEvent; readonly context: unknown };

/**
 * A read model on PostgreSQL, folded inside the transaction of each append (after the events are
 * written, under the append lock), so it never lags the log and is updated once per event whichever
 * ledger process appended it. May answer something per event id (findings), handed back with the outcome.
 * Rows that no projection reads before the transaction ends go to `writes` (sent together, once every
 * projection has run); rows another projection may read in the same commit are written on `tx` at once.
 */
export interface PgProjection {
  readonly name: string;
  /** Its tables, emptied when the read models are rebuilt from the log. */
  readonly tables: readonly string[];
  apply(tx: pg.ClientBase, events: readonly AppliedEvent[], writes: Writes): Promise<void | ReadonlyMap<string, unknown>>;
  /** The transaction failed: forget what was kept in memory of it. */
  reset?(): void;
}
