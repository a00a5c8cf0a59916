import type pg from 'pg';
import { migrate, migratedPool, type Migration } from '../../common/postgres/migrations.js';
import { annotated, note, type Notes } from '../annotations.js';
import { heard, inTransaction, withConnection } from '../../common/postgres/transaction.js';
import { arrayLiteral, insertStatement, lookUpEach, Writes } from '../../common/postgres/rows.js';
import type { AppendLease, AppendOutcome, EventStore, NewEvent, RecordedEvent, StreamAppend } from '../event-store.port.js';
import { leafHash } from '../domain/canonical.js';
import { relink, type Linkable } from '../domain/chain.js';
import { appendObstacle, expectedStart } from '../append-decision.js';
import type { AppliedEvent, PgProjection } from './pg-projection.js';
import { withStoredEntry } from '../entry-of.js';

/**
 * Versioned migrations of the event store's schema, applied in order by the store itself at start
 * (`pdl_migrations` records which ran). Only ever append to this list.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
create table if not exists events (
  global_position bigint primary key,
  stream text not null,
  revision integer not null,
  event_id text not null,
  type text not null,
  data bytea not null,
  unique (stream, revision),
  unique (stream, event_id));
create table if not exists streams (stream text primary key, revision integer not null);
create table if not exists global_position (id integer primary key check (id = 1), last bigint not null);
insert into global_position (id, last) values (1, -1) on conflict do nothing;`,
  },
];

const EVENT_COLUMNS = [['global_position', 'bigint'], ['stream', 'text'], ['revision', 'integer'], ['event_id', 'text'], ['type', 'text'], ['data', 'bytea']] as const;

/** Every append takes this transaction-scoped advisory lock: one committer at a time keeps the global order the commit order. */
const APPEND_LOCK = 0x70646c01;
/** Appends take it shared; a lease (a process's turn, see `lease`) holds it exclusively. */
const TURN_LOCK = 0x70646c05;

interface Row { global_position: string; stream: string; revision: number; event_id: string; type: string; data: Buffer }
const recorded = (r: Row): RecordedEvent => ({ stream: r.stream, revision: r.revision, globalPosition: BigInt(r.global_position), eventId: r.event_id, type: r.type, data: r.data });

/**
 * A stream's events with the ids of `$2` (`$1` the stream), `e`: each id looked up in the unique (stream,
 * event_id) index, whatever the statistics say (see `lookUpEach`). Written `stream = $1 and event_id =
 * any($2)`, or as a join, the planner of a table never analysed (a new ledger, or a server without
 * autovacuum) read every row of the stream and kept the few asked for: 5 ms for 130 ids at 18,000 events,
 * growing with the log, on every append.
 */
const BY_IDS = lookUpEach({ k: '$2::text[]' }, 'e', 'select * from events where stream = $1 and event_id = k limit 1');

/** The log's rows, sent with the read models', broke a unique key: the append goes round again, row by row. */
class RowsRefused extends Error {}

/**
 * The event store on PostgreSQL. Each `append` is one transaction (durable at commit with the default
 * `synchronous_commit = on`), each stream append inside a savepoint, guarded by the stream's revision
 * row; the global position is allocated under a transaction-level advisory lock, so it grows in commit
 * order with no gap and no fork whatever the number of ledger processes writing to the same database.
 */
export class PgEventStore implements EventStore {

  /** Whether the server knows `idle_session_timeout` (PostgreSQL 14 and later): see `lease`. */
  private idleSessions = true;

  private constructor(private readonly pool: pg.Pool, private readonly schema: string, private readonly projections: readonly PgProjection[], private readonly owned: boolean) {}

  /** Connects, creates the schema if needed, and applies the migrations not applied yet. */
  static async open(connectionString: string, schema = 'pdl'): Promise<PgEventStore> {
    return new PgEventStore(await migratedPool(connectionString, schema, 'event-store', APPEND_LOCK, MIGRATIONS, 8), schema, [], true);
  }

  /**
   * The store on a pool of the caller's (which closes it), with `projections` folded into each append's
   * transaction (their tables migrated by the caller).
   */
  static async on(pool: pg.Pool, schema: string, projections: readonly PgProjection[]): Promise<PgEventStore> {
    await migrate(pool, schema, 'event-store', APPEND_LOCK, MIGRATIONS);
    return new PgEventStore(pool, schema, projections, false);
  }

  /** The store on a pool of the caller's whose schema is migrated already (a storage worker's). */
  static attached(pool: pg.Pool, schema: string, projections: readonly PgProjection[]): PgEventStore {
    return new PgEventStore(pool, schema, projections, false);
  }

  /** Runs `work` in a transaction holding the append lock: nothing is appended meanwhile (rebuilds). */
  exclusively<T>(work: (tx: pg.ClientBase) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, async (c) => {
      await c.query('select pg_advisory_xact_lock($1)', [APPEND_LOCK]);
      return work(c);
    });
  }

  append(appends: readonly StreamAppend[]): Promise<AppendOutcome[]> {
    return withConnection(this.pool, (client) => this.appendOn(client, appends, true));
  }

  /** A turn at appending alone: until released, appends of other processes (and this one's outside it) wait. */
  async lease(): Promise<AppendLease> {
    const client = await this.pool.connect();
    const listening = heard(client);
    let limited = false;
    try {
      // Held between transactions, the lease is the session's: a process stopped while holding it (paused, cut
      // off) kept every other one waiting until the server's TCP keep-alive gave up on it. The server ends such
      // a session once idle as long as a transaction may be (IDLE_IN_TRANSACTION_MS, or the URL's option).
      if (this.idleSessions) {
        limited = await client.query("select set_config('idle_session_timeout', current_setting('idle_in_transaction_session_timeout'), false)").then(() => true, (e: unknown) => {
          // PostgreSQL before 14 has no such setting: the lease goes without it.
          if ((e as { code?: string }).code !== '42704') throw e;
          this.idleSessions = false;
          return false;
        });
      }
      await client.query('select pg_advisory_lock($1)', [TURN_LOCK]);
    } catch (e) {
      client.release(e instanceof Error ? e : true);
      listening.done();
      throw e;
    }
    let released = false;
    return {
      append: (appends) => this.appendOn(client, appends, false),
      release: async () => {
        if (released) return;
        released = true;
        try {
          await client.query(`select pg_advisory_unlock($1)${limited ? ", set_config('idle_session_timeout', '0', false)" : ''}`, [TURN_LOCK]);
          client.release();
        } catch (e) {
          // A connection that cannot unlock is closed: its session's locks go with it.
          client.release(e instanceof Error ? e : true);
        } finally {
          listening.done();
        }
      },
    };
  }

  /**
   * One transaction, in as few round trips as the work allows: the locks, the global head and the first
   * stream's revision in one, the read models' reads, then every write nothing reads before the commit
   * (the log's rows, the global head, and what the projections add to `writes`) in one statement.
   */
  private async appendOn(client: pg.PoolClient, appends: readonly StreamAppend[], waitTurn: boolean): Promise<AppendOutcome[]> {
    // The log's rows go in with the read models' (one round trip less under the append lock) unless a
    // stream comes twice; a unique key they break (an id reused meanwhile) sends the append round again,
    // each stream's rows then inserted on their own, inside its savepoint, where the reused ids are found.
    const once = new Set(appends.map((a) => a.stream)).size === appends.length;
    try {
      return await this.appendOnce(client, appends, waitTurn, once);
    } catch (e) {
      if (e instanceof RowsRefused) return this.appendOnce(client, appends, waitTurn, false);
      throw e;
    }
  }

  private async appendOnce(client: pg.PoolClient, appends: readonly StreamAppend[], waitTurn: boolean, deferRows: boolean): Promise<AppendOutcome[]> {
    const writes = new Writes();
    try {
      const started = await client.query(`begin; ${waitTurn ? `select pg_advisory_xact_lock_shared(${TURN_LOCK}); ` : ''}select pg_advisory_xact_lock(${APPEND_LOCK});
        select last from global_position where id = 1; ${appends.length ? this.streamAt(client, appends[0]!.stream, 0) : ''}`) as unknown as pg.QueryResult[];
      let last = BigInt((started[waitTurn ? 3 : 2]!.rows[0] as { last: string }).last);
      let revision: pg.QueryResult | undefined = started[started.length - 1];
      const outcomes: AppendOutcome[] = [];
      const applied: AppliedEvent[][] = [];
      for (const [i, a] of appends.entries()) {
        if (i > 0) revision = (await client.query(this.streamAt(client, a.stream, i)) as unknown as pg.QueryResult[])[1];
        const actual = (revision!.rows[0] as { revision: string | number } | undefined)?.revision;
        const { outcome, events } = await this.appendOne(client, a, actual === undefined ? null : Number(actual), last, `s${i}`, deferRows ? writes : null);
        const mine: AppliedEvent[] = [];
        if (outcome._tag === 'Appended' && !outcome.idempotent) {
          events.forEach((e, k) => {
            const data = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
            const recorded: RecordedEvent = {
              stream: a.stream, revision: outcome.firstRevision + k, globalPosition: last + 1n + BigInt(k), eventId: e.eventId, type: e.type, data,
              ...(e.leafHash ? { leafHash: Buffer.from(e.leafHash.buffer, e.leafHash.byteOffset, e.leafHash.byteLength) } : {}),
            };
            // Without the writer's entry (EventStoreDB's events, folded into this replica): parsed once, when asked.
            mine.push(e.context !== undefined ? { recorded, context: e.context } : withStoredEntry(recorded));
          });
          last += BigInt(events.length);
        } else await client.query(`rollback to savepoint s${i}`);
        outcomes.push(outcome);
        applied.push(mine);
      }
      const all = applied.flat();
      const notes: Notes = new Map();
      if (all.length) {
        writes.add({ sql: 'update global_position set last = $1 where id = 1', params: [last.toString()] });
        for (const p of this.projections) note(notes, p.name, await p.apply(client, all, writes));
        try {
          await writes.run(client);
        } catch (e) {
          throw deferRows && (e as { code?: string }).code === '23505' ? new RowsRefused() : e;
        }
      }
      await client.query('commit');
      return annotated(outcomes, applied, notes);
    } catch (e) {
      // (Also when the first query failed after its `begin`: outside a transaction, a rollback only warns.)
      await client.query('rollback').catch(() => undefined);
      // Rolled back: what projections keep in memory of it goes too.
      for (const p of this.projections) p.reset?.();
      throw e;
    }
  }

  /** A savepoint for the `i`th stream append, and that stream's revision: one simple query (no parameters). */
  private streamAt(client: pg.PoolClient, stream: string, i: number): string {
    return `savepoint s${i}; select revision from streams where stream = ${client.escapeLiteral(stream)}`;
  }

  /**
   * One stream's append, inside its savepoint `savepoint`, the stream at revision `actual`. The common
   * case — the stream is where the writer expects it — inserts (the rows and the stream's revision; into
   * `deferTo` when given, sent later with the read models') and lets the unique (stream, event_id) key find
   * a reused id; only then, or when the stream has moved, are the ids looked up (an idempotent repeat, a
   * duplicate, or a stale expected revision).
   */
  private async appendOne(client: pg.PoolClient, a: StreamAppend, actual: number | null, last: bigint, savepoint: string, deferTo: Writes | null): Promise<{ outcome: AppendOutcome; events: readonly NewEvent[] }> {
    const ids = a.events.map((e) => e.eventId);
    let start = expectedStart(a, actual);
    let events = a.events;
    let relinked: string[] | undefined;
    const inBatchDups = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
    if (a.relink && actual !== null && actual > start && inBatchDups.length === 0 && ids.length > 0 && a.events.every((e) => e.context !== undefined)) {
      // Other processes appended since these entries were linked: they go after those, linked again.
      const before = (await client.query<{ data: Buffer }>('select data from events where stream = $1 and revision = $2', [a.stream, actual])).rows[0];
      if (before) {
        const linked = relink(a.events.map((e) => ({ data: e.data, entry: e.context as Linkable })), actual + 1, leafHash(before.data).toString('hex'));
        events = linked.map((l, k) => ({ eventId: ids[k]!, type: a.events[k]!.type, data: l.data, leafHash: l.leaf, context: l.entry }));
        relinked = linked.map((l) => l.hash);
        start = actual;
      }
    }
    if ((actual ?? -1) === start && inBatchDups.length === 0 && ids.length > 0) {
      const first = start + 1;
      const lastRevision = first + ids.length - 1;
      const rows = deferTo ?? new Writes();
      rows.add(insertStatement('events', EVENT_COLUMNS, events.map((e, k) => [(last + 1n + BigInt(k)).toString(), a.stream, first + k, e.eventId, e.type, e.data])));
      rows.add({ sql: 'insert into streams (stream, revision) values ($1, $2) on conflict (stream) do update set revision = excluded.revision', params: [a.stream, lastRevision] });
      try {
        // Deferred: sent with the read models' rows (see `appendOn`).
        if (!deferTo) await rows.run(client);
      } catch (e) {
        if ((e as { code?: string }).code !== '23505') throw e;
        // An id already in the stream: back to the savepoint, and find which.
        await client.query(`rollback to savepoint ${savepoint}`);
        const why = await this.classify(client, a, actual, ids);
        if (why._tag === 'Appended' && !why.idempotent) throw e;
        return { outcome: why, events: [] };
      }
      return { outcome: { _tag: 'Appended', stream: a.stream, firstRevision: first, lastRevision, idempotent: false, ...(relinked ? { relinked } : {}) }, events };
    }
    return { outcome: await this.classify(client, a, actual, ids), events: [] };
  }

  /** Why an append cannot go in as asked: an idempotent repeat, a stale expected revision, or reused ids. */
  private async classify(client: pg.PoolClient, a: StreamAppend, actual: number | null, ids: readonly string[]): Promise<AppendOutcome> {
    const found = new Map((await client.query<{ event_id: string; revision: number }>(`select e.event_id, e.revision from ${BY_IDS}`, [a.stream, arrayLiteral(ids)])).rows.map((r) => [r.event_id, r.revision]));
    // Nothing in the way: nothing to append (an empty append at the expected revision).
    return appendObstacle(a, actual, found) ?? { _tag: 'Appended', stream: a.stream, firstRevision: (actual ?? -1) + 1, lastRevision: actual ?? -1, idempotent: false };
  }


  async streamRevision(stream: string): Promise<number | null> {
    return (await this.pool.query<{ revision: number }>('select revision from streams where stream = $1', [stream])).rows[0]?.revision ?? null;
  }

  async readStream(stream: string, fromRevision: number, maxCount: number): Promise<RecordedEvent[]> {
    return (await this.pool.query<Row>('select * from events where stream = $1 and revision >= $2 order by revision limit $3', [stream, fromRevision, maxCount])).rows.map(recorded);
  }

  async readAll(fromGlobalPosition: bigint, maxCount: number): Promise<RecordedEvent[]> {
    return (await this.pool.query<Row>('select * from events where global_position >= $1 order by global_position limit $2', [fromGlobalPosition.toString(), maxCount])).rows.map(recorded);
  }

  async findByEventIds(stream: string, eventIds: readonly string[]): Promise<RecordedEvent[]> {
    return (await this.pool.query<Row>(`select e.* from ${BY_IDS} order by e.revision`, [stream, arrayLiteral([...new Set(eventIds)])])).rows.map(recorded);
  }

  /** Drops this store's schema and everything in it (tests). */
  async dropSchema(): Promise<void> {
    await this.pool.query(`drop schema if exists ${this.schema} cascade`);
  }

  async close(): Promise<void> {
    if (this.owned) await this.pool.end();
  }
}
