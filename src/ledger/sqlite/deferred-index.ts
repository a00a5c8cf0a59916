import type { Db } from '../../common/sqlite/open-database.js';
import type { RecordedEvent } from '../event-store.port.js';

export type Applied = { readonly recorded: RecordedEvent; readonly context: unknown };

/**
 * An index over the log whose keys are random (event ids, subjects), so that writing it inside each
 * fsynced commit would touch one page per event. It is written instead after the commits it covers,
 * in groups of thousands, without an fsync of its own, with a checkpoint (global position) moved in
 * the same transaction; at start-up it is completed from the log. Readers combine it with the
 * committed entries after its checkpoint.
 */
export interface DeferredIndex {
  readonly name: string;
  /** Schema of the index; created on every connection that reads it. */
  readonly schema: string;
  /** Its tables, dropped when the read models are rebuilt (absent: the event store's own index, never rebuilt). */
  readonly tables?: readonly string[];
  /** Takes the entries of committed events (in commit order). */
  add(events: readonly Applied[]): void;
  /**
   * Writes what `add` took, inside the flush transaction on `db`, and keeps it: if that transaction
   * fails, the next flush writes it again (and readers still find it here meanwhile).
   */
  write(db: Db): void;
  /** The transaction of the last `write` committed: forgets what it wrote. */
  committed(): void;
  /**
   * When the read models are rebuilt: fills the whole index at once from the rebuilt tables (sorted,
   * so much cheaper than row by row), instead of taking every batch. Absent: fed batch by batch.
   */
  fillInBulk?(db: Db): void;
}

export const DEFERRED_SCHEMA = `create table if not exists deferred_checkpoints (name text primary key, global_position integer not null);`;

/** The global position up to which `name` is written, or -1. */
export function deferredCheckpoint(db: Db, name: string): bigint {
  const row = db.prepare('select global_position as p from deferred_checkpoints where name = ?').safeIntegers(true).get(name) as { p: bigint } | undefined;
  return row?.p ?? -1n;
}
