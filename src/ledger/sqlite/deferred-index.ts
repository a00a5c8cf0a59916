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
   * Sets what `add` has taken so far apart as the group the next `write`s write; what `add` takes
   * afterwards waits for the next group. Readers still find the group here until `committed`.
   * (`write` sets the group apart itself when there is none.)
   */
  freeze?(): void;
  /**
   * Writes the group (see `freeze`), inside a transaction on `db`: at most about `budget` rows of it
   * (default: all), the rest at the next calls; true once all of it is written. A group may so be
   * written over several transactions, the index's checkpoint moved with the last: rows written
   * again after a crash (the log is read again from the checkpoint) must change no answer.
   * If a transaction fails, `rewind` starts the group again from its first row.
   */
  write(db: Db, budget?: number): boolean | void;
  /** The group is written and its checkpoint committed: forgets it. */
  committed(): void;
  /** A transaction of `write` failed: the next one writes the group again from its first row. */
  rewind?(): void;
  /**
   * When the read models are rebuilt: fills the whole index at once from the rebuilt tables (sorted,
   * so much cheaper than row by row), instead of taking every batch. Absent: fed batch by batch.
   */
  fillInBulk?(db: Db): void;
}

/** Events after which a group is written at once, without waiting for `FLUSH_MS` (the log's and the blind index's). */
export const FLUSH_EVENTS = 20_000;
/**
 * A group is written once this long has passed since its first event, if it has not reached
 * `FLUSH_EVENTS` before. Rows at random keys cost a page each, however few share it: a group of the
 * 4,000 events that 64 clients sending one each brought in a second touched ~4 times more pages a row
 * than a group of 20,000, its slices took 6–13 ms instead of 2–4, and every commit waited behind one
 * (measured: 1 s → 5 s, 64 × 1 over HTTP right after 4 × 100, alternated, 3,460–4,052 → 4,052–4,546
 * events/s). Readers meet at most about two groups of unindexed rows either way (a round still being
 * written when a whole group has come in writes its rest at once); the blind index's lookups write what
 * waits first, so they never read less.
 */
export const FLUSH_MS = 5000;
/**
 * Rows a scheduled flush writes per transaction at most (a few milliseconds): between two, the thread
 * serves the appends that arrived meanwhile, so that a group of 20,000 events' index rows, ~200 ms of
 * writes, no longer holds the log's commits back for that long (measured: ~20% of the time in process).
 */
export const SLICE_ROWS = 1000;

/**
 * What a slice should take: each index's next slice is sized from how long its last one took, between
 * `MIN_SLICE_ROWS` and `SLICE_ROWS` rows. A thousand rows at random keys took 3–10 ms, and under 64
 * clients sending one event each every commit (~1.5 ms) waited behind one: sized to ~2 ms, six
 * alternated pairs of 4 × 100 then 64 × 1 over HTTP, 64 × 1 3,329–4,285 → 3,525–4,569 events/s (five
 * pairs of six better), 4 × 100 7,960–11,448 → 8,723–10,454.
 */
const SLICE_MS = 2;
const MIN_SLICE_ROWS = 100;

/**
 * The rows each deferred index's next slice takes (`SLICE_MS`), learnt from how long its last took;
 * shared by the log's writer and the blind index's. Slices are one a turn of the event loop, and under a
 * sustained load they wrote fewer rows than came in: the groups waiting grew without end (the server's
 * RSS under 4 × 100 over HTTP, 175 → 461 MB in 40 s). Once a whole group (`FLUSH_EVENTS`) has come in
 * while one is still being written, each index's rest goes in one slice: no more than about two wait.
 */
export class SliceSizes {
  private readonly rows = new Map<string, number>();

  /** Rows for the next slice of `index`, `waiting` events having come in since its group was set apart (Infinity: all that is left). */
  next(index: string, waiting: number): number {
    return waiting >= FLUSH_EVENTS ? Infinity : this.rows.get(index) ?? SLICE_ROWS;
  }

  /** A slice of `index` asked for `rows` rows and took `ms` (one asked for all that was left teaches nothing). */
  took(index: string, rows: number, ms: number): void {
    if (rows === Infinity) return;
    this.rows.set(index, Math.max(MIN_SLICE_ROWS, Math.min(SLICE_ROWS, Math.round((rows * SLICE_MS) / Math.max(ms, 0.05)))));
  }

  /** Writes the next slice of `index` (`next`), timed for the one after (`took`); a slice that throws teaches nothing. */
  write<T>(index: string, waiting: number, slice: (rows: number) => T): T {
    const rows = this.next(index, waiting);
    const started = performance.now();
    const out = slice(rows);
    this.took(index, rows, performance.now() - started);
    return out;
  }
}

export const DEFERRED_SCHEMA = `create table if not exists deferred_checkpoints (name text primary key, global_position integer not null);`;

/** The global position up to which `name` is written, or -1. */
export function deferredCheckpoint(db: Db, name: string): bigint {
  const row = db.prepare('select global_position as p from deferred_checkpoints where name = ?').safeIntegers(true).get(name) as { p: bigint } | undefined;
  return row?.p ?? -1n;
}

/** The rows of a frozen group, in the order they are written, handed out a slice at a time. */
export class Slices<T> {
  private at = 0;
  constructor(private readonly rows: readonly T[]) {}

  /** The next rows, at most `budget` of them. */
  next(budget = Infinity): readonly T[] {
    const out = this.rows.slice(this.at, this.at + budget);
    this.at += out.length;
    return out;
  }

  get done(): boolean {
    return this.at >= this.rows.length;
  }

  rewind(): void {
    this.at = 0;
  }
}
