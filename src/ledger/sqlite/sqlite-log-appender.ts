import type { Db } from '../../common/sqlite/open-database.js';
import type { AppendOutcome, InlineProjection, RecordedEvent, StreamAppend } from '../event-store.port.js';
import { DEFERRED_SCHEMA, deferredCheckpoint, FLUSH_EVENTS, FLUSH_MS, SliceSizes, type Applied, type DeferredIndex } from './deferred-index.js';
import { EventIdIndex } from './event-id-index.js';
import { leafHash, leafHashOfText } from '../domain/canonical.js';
import { appendObstacle } from '../append-decision.js';
import { storedEntryOf, withStoredEntry } from '../entry-of.js';
import { annotated, note, type Notes } from '../annotations.js';

const SCHEMA = `
create table if not exists events (
  global_position integer primary key,
  stream text not null,
  revision integer not null,
  event_id text not null,
  type text not null,
  data blob not null,
  unique (stream, revision));
${DEFERRED_SCHEMA}
`;

/**
 * A projection folded into each commit, with optional deferred indexes of its own; `reset` drops any
 * state it keeps in memory when a commit fails; `catchUp` completes it from the log at start-up.
 * `rebuild`: a read model, rebuilt from the log (its tables dropped and created again from `schema`)
 * when the read models' version changes or on demand (`pdl rebuild`).
 */
export type SqliteProjection = InlineProjection<Db> & {
  readonly deferred?: readonly DeferredIndex[];
  readonly rebuild?: { readonly tables: readonly string[]; readonly schema: string };
  reset?(): void;
  catchUp?(db: Db): void;
  /** A fold of the log into its tables (a rebuild) begins on `db`, then ends (done or failed). */
  beginRebuild?(db: Db): void;
  endRebuild?(): void;
};

/** How the appender keeps its read models: their version, and a rebuild asked for by hand. */
export interface ReadModelOptions {
  /** The version of the read models' schemas and logic; a store holding another is rebuilt at start-up. */
  readonly version: number;
  /** Rebuild even when the version matches (`pdl rebuild`). */
  readonly force?: boolean;
  readonly onProgress?: (through: bigint, head: bigint) => void;
  /** Read models to fold on another thread during a rebuild (see `RebuildApart`). */
  readonly apart?: RebuildApart;
  /** Log entries read and folded at a time (default `REBUILD_BATCH`). */
  readonly batchSize?: number;
  /** Log entries per transaction (default 100,000): the progress a stop can lose, against fewer page writes. */
  readonly commitEvery?: number;
}

export interface RebuildReport { readonly events: number; readonly ms: number; readonly resumed: boolean }

/**
 * Before the projections of `db` are made (they prepare statements against their tables): when the
 * read models are of another version, or a rebuild is asked for, drops their tables (and their deferred
 * indexes' checkpoints) and records a rebuild to run from the start, which the appender then runs.
 * `projections` describes them (made on a scratch database: only their tables and names are read).
 * `beforeDrop` runs first when they are dropped (to read the file into the page cache, say).
 */
export function resetStaleReadModels(db: Db, projections: readonly SqliteProjection[], version: number, force = false, beforeDrop?: () => void): boolean {
  db.exec(SCHEMA);
  db.exec(READ_MODELS_SCHEMA);
  const state = db.prepare('select version from read_models where id = 1').get() as { version: number } | undefined;
  const empty = db.prepare('select 1 from events limit 1').get() === undefined;
  // A new store starts at the current version, with nothing to rebuild.
  if (!state && empty) db.prepare('insert into read_models (id, version, rebuilt_through) values (1, ?, null)').run(version);
  if (!force && (state ? state.version === version : empty)) return false;
  const replayed = projections.filter((p) => p.rebuild);
  const indexes = replayed.flatMap((p) => (p.deferred ?? []).filter((d) => d.tables));
  beforeDrop?.();
  db.transaction(() => {
    for (const table of [...replayed.flatMap((p) => p.rebuild!.tables), ...indexes.flatMap((d) => d.tables!)]) db.exec(`drop table if exists ${table}`);
    for (const d of indexes) db.prepare('delete from deferred_checkpoints where name = ?').run(d.name);
    db.prepare('insert into read_models (id, version, rebuilt_through) values (1, ?, -1) on conflict (id) do update set version = excluded.version, rebuilt_through = -1').run(version);
  })();
  return true;
}

const READ_MODELS_SCHEMA = 'create table if not exists read_models (id integer primary key check (id = 1), version integer not null, rebuilt_through integer)';
/**
 * Entries read at a time, and folded before the deferred indexes write what they took and the progress
 * moves. Earlier, when a batch was parsed whole, 20,000 outlived V8's young generation (the rebuild of the
 * 1M-event demo ledger: 73 s instead of 53 at 2,000); see `FOLD_CHUNK` for what parses them now.
 */
const REBUILD_BATCH = 2_000;
/**
 * Entries parsed and folded together within a batch. Parsed a whole batch at a time, they were still
 * alive at the young generation's collections, copied by each and promoted into the old one: on the
 * 1M-event demo ledger, with 8 MB semi-spaces, 13.5 s of the rebuild went to the collector (7.4 s in 1,086
 * scavenges, 6.1 s in 79 full collections); folded 100 at a time, 5.0 s (4.1 s and 0.9 s in 49).
 */
const FOLD_CHUNK = 100;
const REBUILD_COMMIT_EVERY = 100_000;
/** Page cache of the rebuild's connection (KiB): the random-key tables' pages stay in memory across batches. */
const REBUILD_CACHE_KIB = 65_536;

/**
 * Read models a rebuild folds on another thread, into a file of their own, while the appender's thread
 * folds the others; their tables are copied in once both are done (on the 1M-event demo ledger, the
 * compliance engine's were half of the rebuild's time).
 */
export interface RebuildApart {
  /** Names of the projections folded apart (not folded by the appender's thread during a rebuild). */
  readonly projections: readonly string[];
  /**
   * Starts folding the log up to `head` into their tables: from the start (`fresh`), or from where an
   * interrupted fold of the same rebuild stopped.
   */
  start(fresh: boolean, head: bigint, batches: { readonly batchSize: number; readonly commitEvery: number }): ApartFold;
}

export interface ApartFold {
  /** Throws if it has already failed (so that the rest of the rebuild stops early). */
  check(): void;
  /** Waits until the log is folded up to its head; answers the SQLite file holding the tables. */
  wait(): string;
  /** Stops it if it still runs (at its next batch, waiting for it); `keep`: its file stays, for the next try to resume from. */
  end(keep: boolean): void;
}

/** The tables of projections, and of their deferred indexes, that a rebuild fills. */
const rebuiltTables = (projections: readonly SqliteProjection[]) =>
  projections.flatMap((p) => [...p.rebuild!.tables, ...(p.deferred ?? []).flatMap((d) => d.tables ?? [])]);

/** Copies the tables folded apart into `db`, with their deferred indexes' checkpoints, in one transaction. */
function copyApart(db: Db, file: string, projections: readonly SqliteProjection[], head: bigint): void {
  db.prepare('attach database ? as aside').run(file);
  try {
    const setCheckpoint = db.prepare('insert into main.deferred_checkpoints (name, global_position) values (?, ?) on conflict (name) do update set global_position = excluded.global_position');
    db.transaction(() => {
      for (const table of rebuiltTables(projections)) db.exec(`delete from main.${table}; insert into main.${table} select * from aside.${table};`);
      for (const d of projections.flatMap((p) => p.deferred ?? []).filter((d) => d.tables)) setCheckpoint.run(d.name, head);
    })();
  } finally {
    db.exec('detach database aside');
  }
}

/** Creates the tables a fold of the log keeps its progress in (`read_models`, `deferred_checkpoints`). */
export function ensureFoldSchema(db: Db): void {
  db.exec(DEFERRED_SCHEMA);
  db.exec(READ_MODELS_SCHEMA);
}

/**
 * A log entry read by a fold as text (its bytes are UTF-8 text: the canonical JSON the writer made): its
 * bytes and leaf hash are made from the text only when a projection asks. Read as bytes and turned into
 * text to be parsed, each entry cost a buffer (outside V8's heap, which its collections account for) and a
 * copy: on the compliance engine's side of the demo ledger's rebuild, which never asks, ~15% of reading
 * and parsing the log; the trail's side asks for the leaf hash alone, hashed from the text.
 */
class FoldedEvent implements RecordedEvent {
  private bytes: Buffer | undefined;
  private leaf: Buffer | undefined;

  constructor(readonly stream: string, readonly revision: number, readonly globalPosition: bigint, readonly eventId: string, readonly type: string, private readonly text: string) {}

  get data(): Buffer {
    return (this.bytes ??= Buffer.from(this.text, 'utf8'));
  }

  get leafHash(): Buffer {
    return (this.leaf ??= leafHashOfText(this.text));
  }
}

/**
 * Folds the log read on `log`, after global position `from`, into `projections` (their tables on `db`),
 * batch by batch; each commit of `db` holds rows and progress (`read_models.rebuilt_through`) together,
 * so an interrupted fold resumes where it stopped. Answers how many entries it folded.
 */
export function foldLog(db: Db, log: Db, projections: readonly SqliteProjection[], from: bigint,
  { batchSize = REBUILD_BATCH, commitEvery = REBUILD_COMMIT_EVERY, onProgress }: { batchSize?: number; commitEvery?: number; onProgress?: (through: bigint) => void } = {}): number {
  const indexes = projections.flatMap((p) => (p.deferred ?? []).filter((d) => d.tables));
  const batched = indexes.filter((d) => !d.fillInBulk);
  const bulk = indexes.filter((d) => d.fillInBulk);
  for (const p of projections) p.reset?.();
  for (const p of projections) p.beginRebuild?.(db);
  // Each commit holds rows and progress together, so the files stay consistent whatever happens; work
  // lost to a power cut is folded again. No fsync per commit, then: one checkpoint at the end.
  db.pragma('synchronous = NORMAL');
  // Rows as arrays: no object made (and dropped) per row and column name. Entries as text: parsed from it,
  // their bytes made again only for a projection that asks (see `FoldedEvent`).
  const page = log.prepare('select global_position, stream, revision, event_id, type, cast(data as text) from events where global_position > ? order by global_position limit ?').safeIntegers(true).raw();
  const setCheckpoint = db.prepare('insert into deferred_checkpoints (name, global_position) values (?, ?) on conflict (name) do update set global_position = excluded.global_position');
  const progress = db.prepare('update read_models set rebuilt_through = ? where id = 1');
  let events = 0;
  const fold = (applied: Applied[]) => {
    for (const p of projections) p.apply(db, applied);
    for (const d of batched) d.add(applied);
  };
  const writeIndexes = (through: bigint) => {
    for (const d of batched) {
      d.write(db);
      setCheckpoint.run(d.name, through);
      // Part of the rebuild's own transaction: a failure there fails the rebuild, which starts again from its progress.
      d.committed();
    }
    progress.run(through);
  };
  // Rows and progress commit together every `commitEvery` entries (a stop loses at most that much work);
  // with a large page cache, pages of the random-key tables are written once per commit, not per batch.
  const cacheBefore = Number(db.pragma('cache_size', { simple: true }));
  db.pragma(`cache_size = -${REBUILD_CACHE_KIB}`);
  let uncommitted = 0;
  db.exec('begin');
  try {
    for (;;) {
      const rows = page.all(from, batchSize) as Array<[globalPosition: bigint, stream: string, revision: bigint, eventId: string, type: string, text: string]>;
      if (rows.length === 0) break;
      from = rows[rows.length - 1]![0];
      try {
        // Parsed and folded a few at a time, so that parsed entries die young (see `FOLD_CHUNK`).
        for (let i = 0; i < rows.length; i += FOLD_CHUNK) {
          fold(rows.slice(i, i + FOLD_CHUNK).map(([globalPosition, stream, revision, eventId, type, text]) => ({
            recorded: new FoldedEvent(stream, Number(revision), globalPosition, eventId, type, text),
            // Parsed, not validated again: these bytes were validated when written and are under the Merkle
            // tree (`pdl verify --data-dir` checks them); a full decode would cost a third of the rebuild.
            context: storedEntryOf(text),
          })));
        }
        writeIndexes(from);
      } catch (e) {
        for (const p of projections) p.reset?.();
        throw e;
      }
      uncommitted += rows.length;
      if (uncommitted >= commitEvery) { db.exec('commit'); db.exec('begin'); uncommitted = 0; }
      events += rows.length;
      onProgress?.(from);
    }
    db.exec('commit');
    // The indexes filled in bulk: whole, from the rebuilt tables (also after a resumed rebuild).
    db.transaction(() => {
      for (const d of bulk) {
        d.fillInBulk!(db);
        setCheckpoint.run(d.name, from);
      }
    })();
  } catch (e) {
    if (db.inTransaction) db.exec('rollback');
    throw e;
  } finally {
    for (const p of projections) p.endRebuild?.();
    db.pragma('synchronous = FULL');
    db.pragma(`cache_size = ${cacheBefore}`);
  }
  return events;
}

export const ensureLogSchema = (db: Db, deferred: readonly DeferredIndex[] = []): void => {
  db.exec(SCHEMA);
  for (const d of deferred) db.exec(d.schema);
};

export interface LogRow { global_position: number | bigint; stream: string; revision: number; event_id: string; type: string; data: Buffer }

/** What an append answers on the embedded store, beyond the port's outcomes. */
export interface AppendReceipt {
  readonly outcomes: AppendOutcome[];
  /** Per outcome: the events it recorded (empty unless newly appended). */
  readonly recorded: ReadonlyArray<ReadonlyArray<readonly [eventId: string, revision: number, globalPosition: bigint]>>;
  /** Every event at or before this global position is in the on-disk idempotency index. */
  readonly idsIndexedThrough: bigint;
}

/**
 * The write side of the embedded event store: one transaction per call, every stream append guarded by
 * its expected revision inside a savepoint, inline projections folded in the same transaction, then
 * the deferred indexes fed. It runs on whichever thread owns the write connections (the storage worker
 * in the server). `indexDb` is a second connection to the same file, `synchronous = NORMAL`, for the
 * deferred indexes.
 */
export class SqliteLogAppender {
  private readonly stmt;
  private readonly tx: (appends: readonly StreamAppend[]) => { outcomes: AppendOutcome[]; applied: Applied[][] };
  private readonly ids = new EventIdIndex();
  private readonly deferred: DeferredIndex[];
  private pending = 0;
  private last = -1n;
  private indexedThrough = -1n;
  private timer: NodeJS.Timeout | null = null;
  /** The groups being written a slice at a time, and the global position up to which they cover the log. */
  private round: { through: bigint; todo: DeferredIndex[] } | null = null;
  private slicing = false;
  /** Each index's rows for its next slice. */
  private readonly sliceSizes = new SliceSizes();
  /** The last committed entry of each stream appended to: its revision and leaf hash (hex), for `expectedHead`. */
  private readonly heads = new Map<string, { revision: number; hash: string }>();

  /** What the start-up rebuild did, if one ran. */
  readonly rebuilt: RebuildReport | null = null;

  constructor(private readonly db: Db, private readonly indexDb: Db, private readonly projections: readonly SqliteProjection[] = [], readModels?: ReadModelOptions) {
    this.deferred = [this.ids, ...projections.flatMap((p) => p.deferred ?? [])];
    ensureLogSchema(db, this.deferred);
    indexDb.pragma('synchronous = NORMAL');
    this.stmt = {
      revision: db.prepare('select max(revision) as r from events where stream = ?'),
      entryAt: db.prepare('select data from events where stream = ? and revision = ?').pluck(),
      insert: db.prepare('insert into events (stream, revision, event_id, type, data) values (?, ?, ?, ?, ?)'),
      setCheckpoint: indexDb.prepare('insert into deferred_checkpoints (name, global_position) values (?, ?) on conflict (name) do update set global_position = excluded.global_position'),
    };
    this.tx = db.transaction((appends: readonly StreamAppend[]) => {
      const outcomes: AppendOutcome[] = [];
      const applied: Applied[][] = [];
      for (const a of appends) {
        const save = `s${outcomes.length}`;
        db.exec(`savepoint ${save}`);
        const mine: Applied[] = [];
        const outcome = this.appendOne(a, mine, applied);
        if (outcome._tag === 'Appended') db.exec(`release ${save}`);
        else {
          db.exec(`rollback to ${save}; release ${save}`);
          mine.length = 0;
        }
        outcomes.push(outcome);
        applied.push(mine);
      }
      const all = applied.flat();
      const notes: Notes = new Map();
      for (const p of this.projections) note(notes, p.name, p.apply(db, all));
      return { outcomes: annotated(outcomes, applied, notes), applied };
    });
    for (const p of projections) p.catchUp?.(db);
    if (readModels) this.rebuilt = this.keepReadModels(readModels);
    this.recover();
  }

  /**
   * Rebuilds the read models from the log when their version changed, a rebuild was asked for, or an
   * earlier one did not finish (it resumes where it stopped: each batch commits its rows and its progress
   * together). Runs before anything reads them.
   */
  private keepReadModels({ version, force, onProgress, batchSize = REBUILD_BATCH, commitEvery = REBUILD_COMMIT_EVERY, apart }: ReadModelOptions): RebuildReport | null {
    const db = this.db;
    const replayed = this.projections.filter((p) => p.rebuild);
    const indexes = replayed.flatMap((p) => (p.deferred ?? []).filter((d) => d.tables));
    // Usually done before the projections were made (`openEmbeddedStorage`); here, their tables come back.
    const stale = resetStaleReadModels(db, this.projections, version, force);
    if (stale) for (const s of [...replayed.map((p) => p.rebuild!.schema), ...indexes.map((d) => d.schema)]) db.exec(s);
    const through = (db.prepare('select rebuilt_through from read_models where id = 1').safeIntegers(true).pluck().get() as bigint | null | undefined) ?? null;
    if (through === null) return null;
    const started = Date.now();
    const head = (db.prepare('select max(global_position) as p from events').safeIntegers(true).get() as { p: bigint | null }).p ?? -1n;
    const aside = apart ? replayed.filter((p) => apart.projections.includes(p.name)) : [];
    const here = replayed.filter((p) => !aside.includes(p));
    // Started first: it folds its read models while this thread folds the others.
    const fold = aside.length ? apart!.start(through === -1n, head, { batchSize, commitEvery }) : null;
    let events: number;
    try {
      events = foldLog(db, db, here, through, { batchSize, commitEvery, onProgress: (at: bigint) => { fold?.check(); onProgress?.(at, head); } });
      if (fold) copyApart(db, fold.wait(), aside, head);
    } catch (e) {
      // What it folded stays for the next try (its file keeps its progress), unless this side failed first.
      fold?.end(true);
      throw e;
    }
    db.prepare('update read_models set version = ?, rebuilt_through = ? where id = 1').run(version, null);
    // Only now: a stop before this line finds the folded file again and copies it without folding anew.
    fold?.end(false);
    for (const p of aside) p.reset?.();
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { events, ms: Date.now() - started, resumed: !stale };
  }

  append(appends: readonly StreamAppend[]): AppendReceipt {
    let done: ReturnType<typeof this.tx>;
    try {
      done = this.tx(appends);
    } catch (e) {
      for (const p of this.projections) p.reset?.();
      this.heads.clear();
      throw e;
    }
    const { outcomes, applied } = done;
    for (const mine of applied) {
      const last = mine[mine.length - 1]?.recorded;
      if (last?.leafHash) this.heads.set(last.stream, { revision: last.revision, hash: last.leafHash.toString('hex') });
    }
    const all = applied.flat();
    if (all.length) {
      for (const d of this.deferred) d.add(all);
      this.pending += all.length;
      this.last = all[all.length - 1]!.recorded.globalPosition;
      this.scheduleFlush();
    }
    return {
      outcomes,
      recorded: applied.map((a) => a.map(({ recorded }) => [recorded.eventId, recorded.revision, recorded.globalPosition] as const)),
      idsIndexedThrough: this.indexedThrough,
    };
  }

  /**
   * Writes everything the deferred indexes took and moves their checkpoints, now, without fsync: the
   * groups of a scheduled flush under way first (one transaction), then what followed them (another).
   * If it fails, every index keeps what it took (and answers from it): the next flush writes it again.
   */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.round && this.pending === 0) return;
    this.round ??= this.freeze();
    this.finish(this.round);
    if (this.pending > 0) this.finish((this.round = this.freeze()));
  }

  /** Sets every index's group apart (see `DeferredIndex.freeze`), covering the log up to the last commit. */
  private freeze(): { through: bigint; todo: DeferredIndex[] } {
    for (const d of this.deferred) d.freeze?.();
    this.pending = 0;
    return { through: this.last, todo: [...this.deferred] };
  }

  /** Writes what is left of the round's groups in one transaction, with their checkpoints. */
  private finish(round: { through: bigint; todo: DeferredIndex[] }): void {
    try {
      this.indexDb.transaction(() => {
        for (const d of round.todo) {
          d.write(this.indexDb);
          this.stmt.setCheckpoint.run(d.name, round.through);
        }
      })();
    } catch (e) {
      for (const d of round.todo) d.rewind?.();
      throw e;
    }
    for (const d of round.todo) this.written(d, round.through);
    round.todo = [];
    this.round = null;
  }

  private written(d: DeferredIndex, through: bigint): void {
    d.committed();
    if (d === this.ids) this.indexedThrough = through;
  }

  /**
   * A scheduled flush: the groups are set apart now and written a slice (`SliceSizes`) per transaction,
   * each index's checkpoint moved with its last slice; between slices the thread serves what arrived
   * (each slice waits for the next turn of the event loop). A failed slice fails nothing (the commits
   * the groups follow are durable already): its index starts its group again `FLUSH_MS` later.
   */
  private flushSoon(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // A round under way goes on (one whose slice failed starts again here).
    if (!this.round) {
      if (this.pending === 0) return;
      this.round = this.freeze();
    }
    this.nextSlice();
  }

  private nextSlice(): void {
    if (this.slicing) return;
    this.slicing = true;
    setImmediate(() => {
      this.slicing = false;
      this.slice();
    });
  }

  private slice(): void {
    const round = this.round;
    const d = round?.todo[0];
    if (!round || !d) return;
    let done = false;
    try {
      this.sliceSizes.write(d.name, this.pending, (rows) => this.indexDb.transaction(() => {
        done = d.write(this.indexDb, rows) !== false;
        if (done) this.stmt.setCheckpoint.run(d.name, round.through);
      })());
    } catch {
      d.rewind?.();
      this.timer ??= setTimeout(() => this.flushSoon(), FLUSH_MS);
      return;
    }
    if (done) {
      this.written(d, round.through);
      round.todo.shift();
    }
    if (round.todo.length) return this.nextSlice();
    this.round = null;
    this.scheduleFlush();
  }

  /** A scheduled flush at once when enough waits, else within `FLUSH_MS`. */
  private scheduleFlush(): void {
    if (this.pending >= FLUSH_EVENTS) this.flushSoon();
    else if (this.pending > 0) this.timer ??= setTimeout(() => this.flushSoon(), FLUSH_MS);
  }

  /** Writes the deferred indexes and closes their connection; `db` stays open for its owner. */
  closeIndexes(): void {
    if (this.indexDb.open) this.flush();
    if (this.indexDb.open) this.indexDb.close();
  }

  close(): void {
    this.closeIndexes();
    if (this.db.open) this.db.close();
  }

  /** Completes every deferred index from the log after its checkpoint (a crash loses only unwritten groups). */
  private recover(): void {
    // One pass over the log from the earliest checkpoint; each index takes what follows its own.
    const page = this.db.prepare('select * from events where global_position > ? order by global_position limit 5000').safeIntegers(true);
    const behind = this.deferred.map((d) => ({ d, from: deferredCheckpoint(this.db, d.name) }));
    let from = behind.reduce((m, b) => (b.from < m ? b.from : m), behind[0]?.from ?? -1n);
    while (behind.length) {
      const rows = page.all(from) as Array<{ global_position: bigint; stream: string; revision: bigint; event_id: string; type: string; data: Buffer }>;
      if (rows.length === 0) break;
      // Each entry parsed once, when an index asks for it (as in the rebuild), not decoded in full by each.
      const applied = rows.map((r) => withStoredEntry({ stream: r.stream, revision: Number(r.revision), globalPosition: r.global_position, eventId: r.event_id, type: r.type, data: r.data }));
      from = rows[rows.length - 1]!.global_position;
      this.indexDb.transaction(() => {
        for (const b of behind) {
          if (b.from >= from) continue;
          b.d.add(applied.filter((x) => x.recorded.globalPosition > b.from));
          b.d.write(this.indexDb);
          this.stmt.setCheckpoint.run(b.d.name, from);
        }
      })();
      for (const b of behind) {
        if (b.from >= from) continue;
        b.d.committed();
        b.from = from;
      }
    }
    const head = (this.db.prepare('select max(global_position) as p from events').safeIntegers(true).get() as { p: bigint | null }).p ?? -1n;
    this.last = head;
    this.indexedThrough = head;
  }

  /** Leaf hash (hex) of the entry at `revision` of `stream`. */
  private headAt(stream: string, revision: number): string {
    const known = this.heads.get(stream);
    if (known?.revision === revision) return known.hash;
    const data = this.stmt.entryAt.get(stream, revision) as Buffer | undefined;
    const hash = data ? leafHash(data).toString('hex') : '';
    this.heads.set(stream, { revision, hash });
    return hash;
  }

  private appendOne(a: StreamAppend, mine: Applied[], earlier: readonly Applied[][]): AppendOutcome {
    const actual = (this.stmt.revision.get(a.stream) as { r: number | null }).r;
    const ids = a.events.map((e) => e.eventId);
    const found = this.ids.find(this.db, a.stream, ids);
    // Appends earlier in this same transaction are not in the index yet.
    for (const prior of earlier) for (const { recorded } of prior) if (recorded.stream === a.stream && ids.includes(recorded.eventId)) found.set(recorded.eventId, recorded.revision);
    const obstacle = appendObstacle(a, actual, found);
    if (obstacle) return obstacle;
    if (a.expectedHead !== undefined && actual !== null && this.headAt(a.stream, actual) !== a.expectedHead) {
      return { _tag: 'WrongExpectedRevision', stream: a.stream, expected: a.expectedRevision, actual };
    }
    let revision = actual ?? -1;
    for (const e of a.events) {
      revision++;
      const data = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
      const info = this.stmt.insert.run(a.stream, revision, e.eventId, e.type, data);
      const leaf = e.leafHash ? Buffer.from(e.leafHash.buffer, e.leafHash.byteOffset, e.leafHash.byteLength) : leafHash(data);
      mine.push({
        recorded: { stream: a.stream, revision, globalPosition: BigInt(info.lastInsertRowid), eventId: e.eventId, type: e.type, data, leafHash: leaf },
        context: e.context,
      });
    }
    return { _tag: 'Appended', stream: a.stream, firstRevision: (actual ?? -1) + 1, lastRevision: revision, idempotent: false };
  }
}
