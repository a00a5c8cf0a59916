import type pg from 'pg';
import type { Logger } from 'pino';
import type { Finding } from '../compliance/domain/finding.js';
import { Leadership } from '../common/postgres/leadership.js';
import { PgFindings } from '../compliance/postgres/pg-compliance.js';
import type { MasterKey } from '../keys/master-key.js';
import { KEYS_SCHEMA, openPgKeyStore } from '../keys/postgres/pg-key-store.js';
import { tenantStream } from '../ledger/domain/streams.js';
import type { AppendOutcome, EventStore, NewEvent, RecordedEvent, StreamAppend } from '../ledger/event-store.port.js';
import { EsdbEventStore, toRecorded } from '../ledger/eventstoredb/esdb-event-store.js';
import type { PgEventStore } from '../ledger/postgres/pg-event-store.js';
import { openPostgresLog, postgresReadModels, sharedPostgresStorage, type PostgresOptions } from './postgres-storage.js';
import type { LedgerStorage } from './storage.js';

const STREAM_PREFIX = tenantStream('');
/** How long an append waits for its events to be folded (its findings) before answering without them. */
const FOLD_WAIT_MS = 30_000;

type Position = { commit: bigint; prepare: bigint };

/**
 * Folds the tenant logs of EventStoreDB, in `$all` order, into PostgreSQL: a replica of each log (the
 * entries' bytes, which the read models read) and every read model, through the PostgreSQL event store
 * and its projections. One process at a time does it (an advisory lock elects it; another takes over
 * when it goes); it resumes from a checkpoint, and re-folding what it had folded is an idempotent append.
 */
class Projector {
  private stopped = false;
  private progressed = false;
  private running: Promise<void> | null = null;
  private subscription: { unsubscribe(): Promise<void> } | null = null;

  constructor(private readonly esdb: EsdbEventStore, private readonly replica: PgEventStore, private readonly pool: pg.Pool, private readonly leads: () => Promise<boolean>, private readonly log?: Logger) {}

  start(): void {
    this.running = this.loop();
  }

  private async loop(): Promise<void> {
    for (let backoff = 500; !this.stopped;) {
      try {
        // A subscription the server ended is taken up again after a pause; a follower asks again later.
        const leading = await this.leads();
        if (leading) await this.follow();
        if (!this.stopped) await sleep(leading ? 500 : 2000);
      } catch (e) {
        // Back-off doubles while nothing gets folded, and starts again after progress.
        if (this.progressed) backoff = 500;
        this.progressed = false;
        this.log?.warn({ err: e instanceof Error ? e.message : String(e) }, 'eventstoredb: folding the log into PostgreSQL stopped; retrying');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  /** Reads the subscription and appends what it brings to the replica, a stream's run of events at a time. */
  private async follow(): Promise<void> {
    const row = (await this.pool.query<{ commit: string; prepare: string }>('select commit::text, prepare::text from esdb_checkpoint where id = 1')).rows[0];
    const from: Position | null = row ? { commit: BigInt(row.commit), prepare: BigInt(row.prepare) } : null;
    const sub = this.esdb.subscribe(from, STREAM_PREFIX);
    this.subscription = sub;
    let batch: RecordedEvent[] = [];
    let last: Position | null = null;
    const flush = async () => {
      if (batch.length === 0) return;
      await this.fold(batch);
      this.progressed = true;
      batch = [];
      if (last) await this.pool.query('insert into esdb_checkpoint (id, commit, prepare) values (1, $1, $2) on conflict (id) do update set commit = excluded.commit, prepare = excluded.prepare', [last.commit.toString(), last.prepare.toString()]);
    };
    for await (const r of sub) {
      if (this.stopped) break;
      const e = r.event;
      if (!e || !e.streamId.startsWith(STREAM_PREFIX)) continue;
      batch.push(toRecorded(e));
      if (e.position) last = e.position;
      const pending = (sub as unknown as { readableLength?: number }).readableLength ?? 0;
      if (batch.length >= 500 || pending === 0) await flush();
    }
    await flush();
  }

  /** Appends runs of consecutive events of one stream to the replica at their own revisions. */
  private async fold(events: readonly RecordedEvent[]): Promise<void> {
    for (let i = 0; i < events.length;) {
      let j = i + 1;
      while (j < events.length && events[j]!.stream === events[i]!.stream && events[j]!.revision === events[j - 1]!.revision + 1) j++;
      const run = events.slice(i, j);
      const first = run[0]!.revision;
      const news: NewEvent[] = run.map((e) => ({ eventId: e.eventId, type: e.type, data: e.data }));
      const [o] = await this.replica.append([{ stream: run[0]!.stream, expectedRevision: first === 0 ? 'no_stream' : first - 1, events: news }]);
      if (o!._tag !== 'Appended') throw new Error(`the PostgreSQL replica of ${run[0]!.stream} does not follow EventStoreDB (${o!._tag} at revision ${first})`);
      i = j;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.subscription?.unsubscribe().catch(() => undefined);
    await this.running;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/**
 * The event store the ledger writes through with EventStoreDB: appends go to EventStoreDB (durable there
 * when acknowledged), then wait until the projector has folded them into PostgreSQL, so that the append
 * answers with its findings as on the other backends. Reads of the log go to EventStoreDB.
 */
class FoldedEsdbStore implements EventStore {
  constructor(private readonly esdb: EsdbEventStore, private readonly pool: pg.Pool, private readonly findings: PgFindings, private readonly log?: Logger) {}

  async append(appends: readonly StreamAppend[]): Promise<AppendOutcome[]> {
    const outcomes = await this.esdb.append(appends);
    return Promise.all(outcomes.map(async (o, i) => {
      if (o._tag !== 'Appended' || o.idempotent) return o;
      const ids = appends[i]!.events.map((e) => e.eventId);
      if (!(await this.folded(o.stream, o.lastRevision))) {
        this.log?.warn({ stream: o.stream }, 'eventstoredb: events recorded, but not folded into PostgreSQL in time; answered without their findings');
        return o;
      }
      const tenant = o.stream.slice(STREAM_PREFIX.length);
      const found: ReadonlyMap<string, readonly Finding[]> = await this.findings.ofEvents(tenant, ids);
      return found.size ? { ...o, annotations: Object.fromEntries([...found].map(([id, f]) => [id, { compliance: f }])) } : o;
    }));
  }

  /** Whether the replica reached `revision` of the stream within the wait. */
  private async folded(stream: string, revision: number): Promise<boolean> {
    const deadline = Date.now() + FOLD_WAIT_MS;
    for (let wait = 2; Date.now() < deadline; wait = Math.min(wait * 2, 50)) {
      const r = (await this.pool.query<{ revision: number }>('select revision from streams where stream = $1', [stream])).rows[0]?.revision ?? -1;
      if (r >= revision) return true;
      await sleep(wait);
    }
    return false;
  }

  streamRevision(stream: string) { return this.esdb.streamRevision(stream); }
  readStream(stream: string, from: number, max: number) { return this.esdb.readStream(stream, from, max); }
  readAll(from: bigint, max: number) { return this.esdb.readAll(from, max); }
  findByEventIds(stream: string, ids: readonly string[]) { return this.esdb.findByEventIds(stream, ids); }
  close() { return this.esdb.close(); }
}

/**
 * `PDL_STORE=eventstoredb`: the tenant logs in EventStoreDB; their replica, every read model and the keys
 * in PostgreSQL, folded by one elected process from a catch-up subscription.
 */
export async function openEventStoreDbStorage(esdbUrl: string, postgresUrl: string, master: MasterKey, options: PostgresOptions & { log?: Logger } = {}): Promise<LedgerStorage> {
  const { pool, eventStore: replica, rebuilt } = await openPostgresLog(postgresUrl, options);
  try {
    const esdb = await EsdbEventStore.open(esdbUrl, pool, options.schema ?? 'pdl');
    const keys = await openPgKeyStore(postgresUrl, master, () => new Date().toISOString(), options.keysSchema ?? KEYS_SCHEMA);
    const leadership = new Leadership(pool);
    // One process folds the logs into PostgreSQL: the one that leads the job.
    const projector = new Projector(esdb, replica, pool, () => leadership.leads('eventstoredb-projector'), options.log);
    projector.start();
    const readModels = postgresReadModels(pool);
    // Closing the folded store closes the EventStoreDB client; the projector stops before.
    return sharedPostgresStorage({
      pool, keys, leadership, eventStore: new FoldedEsdbStore(esdb, pool, readModels.findings, options.log), readModels, rebuilt,
      alsoHealthy: () => esdb.streamRevision('pdl-health').then(() => true, () => false),
      stopFirst: () => projector.stop(),
    });
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
}
