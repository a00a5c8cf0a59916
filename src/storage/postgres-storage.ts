import type pg from 'pg';
import { migrate, schemaPool } from '../common/postgres/migrations.js';
import { Writes } from '../common/postgres/rows.js';
import { Leadership } from '../common/postgres/leadership.js';
import { PgAnswersReadModel, pgAnswersProjection } from '../answers/postgres/pg-answers.js';
import { PgAuditTrailReadModel, pgAuditTrailProjection } from '../audit-trail/postgres/pg-audit-trail.js';
import { PgComplianceState, PgFindings, pgComplianceProjection } from '../compliance/postgres/pg-compliance.js';
import { PgDeclarationsReadModel, pgDeclarationsProjection } from '../declarations/postgres/pg-declarations.js';
import { PgCheckpointStore, PgMerkleTree, pgMerkleProjection } from '../integrity/postgres/pg-merkle.js';
import type { MasterKey } from '../keys/master-key.js';
import { KEYS_SCHEMA, openPgKeyStore } from '../keys/postgres/pg-key-store.js';
import type { EventStore } from '../ledger/event-store.port.js';
import { PgEventStore } from '../ledger/postgres/pg-event-store.js';
import { storedEntryOf } from '../ledger/entry-of.js';
import { PgWorkerEventStore } from './postgres/pg-append-worker-client.js';
import type { OnWorkerLost } from './worker-calls.js';
import type { PgProjection } from '../ledger/postgres/pg-projection.js';
import { PgRequestsReadModel, pgRequestsProjection } from '../requests/postgres/pg-requests.js';
import { PgTenantDirectory, pgTenancyProjection } from '../tenancy/postgres/pg-tenancy.js';
import { READ_MODEL_MIGRATIONS, READ_MODEL_TABLES } from './postgres/read-model-migrations.js';
import type { LedgerStorage, RebuildReport } from './storage.js';

/**
 * The version of the PostgreSQL read models' logic (their tables are migrated, their contents folded):
 * a database holding another is rebuilt from the log at start-up. Raise it whenever a projection's logic changes.
 */
export const PG_READ_MODELS_VERSION = 3;
const READ_MODELS_LOCK = 0x70646c04;
const REBUILD_BATCH = 2000;

type PgKeys = Awaited<ReturnType<typeof openPgKeyStore>>;

export interface PostgresOptions {
  /** Schemas: the log with its read models, and the keys (apart). */
  readonly schema?: string;
  readonly keysSchema?: string;
  /** Rebuild every read model from the log before serving (`pdl rebuild`). */
  readonly rebuild?: { readonly onProgress?: (through: bigint, head: bigint) => void };
  /** Connections to PostgreSQL (default 10). */
  readonly connections?: number;
  /**
   * `worker` (the server's choice): appends, with the read models folded into them, run on a worker
   * thread of their own. `in-thread`: on the calling thread (tools, and tests that run from TypeScript sources).
   */
  readonly writes?: 'worker' | 'in-thread';
  /** Called if the append worker ends unasked (the server stops then: see `StorageModule`). */
  readonly onWorkerLost?: OnWorkerLost;
}

export const postgresProjections = (): PgProjection[] => [
  pgMerkleProjection(), pgTenancyProjection(), pgDeclarationsProjection(), pgAuditTrailProjection(), pgRequestsProjection(), pgAnswersProjection(), pgComplianceProjection(),
];

/**
 * Empties the read models and folds the whole log into them again, in one transaction under the append
 * lock: no process appends meanwhile, and a rebuild that fails leaves them as they were.
 */
async function rebuild(store: PgEventStore, projections: readonly PgProjection[], onProgress?: (through: bigint, head: bigint) => void): Promise<RebuildReport> {
  const started = Date.now();
  // What projections keep in memory is of the folded state: dropped before (the tables are emptied) and after a failure.
  for (const p of projections) p.reset?.();
  return store.exclusively(async (tx: pg.ClientBase) => {
    await tx.query(`truncate ${READ_MODEL_TABLES.join(', ')} restart identity`);
    const head = BigInt((await tx.query<{ last: number }>('select last from global_position where id = 1')).rows[0]?.last ?? -1);
    let events = 0;
    for (let from = 0n; ;) {
      const { rows } = await tx.query<{ global_position: number; stream: string; revision: number; event_id: string; type: string; data: Buffer }>(
        'select * from events where global_position >= $1 order by global_position limit $2', [from.toString(), REBUILD_BATCH]);
      if (rows.length === 0) break;
      // Parsed once for every projection, not validated again (as on SQLite): these bytes were validated when
      // written and are under the Merkle tree; each projection decoding them in full cost a third of the rebuild.
      const batch = rows.map((r) => ({ recorded: { stream: r.stream, revision: r.revision, globalPosition: BigInt(r.global_position), eventId: r.event_id, type: r.type, data: r.data }, context: storedEntryOf(r.data) }));
      const writes = new Writes();
      for (const p of projections) await p.apply(tx, batch, writes);
      await writes.run(tx);
      events += rows.length;
      from = BigInt(rows[rows.length - 1]!.global_position) + 1n;
      onProgress?.(from - 1n, head);
    }
    await tx.query('insert into read_models (id, version, rebuilt_through) values (1, $1, null) on conflict (id) do update set version = excluded.version, rebuilt_through = null', [PG_READ_MODELS_VERSION]);
    return { events, ms: Date.now() - started, resumed: false };
  }).catch((e: unknown) => {
    for (const p of projections) p.reset?.();
    throw e;
  });
}

/** The read models' ports on PostgreSQL (every one complete at each commit: nothing deferred). */
export function postgresReadModels(pool: pg.Pool) {
  const compliance = new PgComplianceState(pool);
  return {
    merkle: new PgMerkleTree(pool),
    findings: new PgFindings(pool),
    retention: compliance,
    requests: new PgRequestsReadModel(pool),
    decisions: compliance,
    flushDeferred: () => Promise.resolve(),
    checkpoints: new PgCheckpointStore(pool),
    tenants: new PgTenantDirectory(pool),
    declarations: new PgDeclarationsReadModel(pool),
    auditTrail: new PgAuditTrailReadModel(pool),
    answers: new PgAnswersReadModel(pool),
  };
}

/**
 * A store whose read models and keys are in PostgreSQL, shared with other ledger processes: what the
 * PostgreSQL and EventStoreDB backends answer alike. `alsoHealthy`: what else must answer for the store
 * to be healthy; `stopFirst`: what to stop before anything is closed. Closing ends the pool.
 */
export function sharedPostgresStorage(s: {
  pool: pg.Pool; keys: PgKeys; leadership: Leadership; eventStore: EventStore; readModels: ReturnType<typeof postgresReadModels>; rebuilt: RebuildReport | null;
  alsoHealthy?: () => Promise<boolean>; stopFirst?: () => Promise<void>; workerHeap?: () => Promise<{ used: number; total: number }>;
}): LedgerStorage {
  return {
    eventStore: s.eventStore,
    keyStore: s.keys.store,
    ...s.readModels,
    rebuilt: s.rebuilt,
    workerHeap: () => s.workerHeap?.() ?? Promise.resolve(null),
    exclusive: false,
    healthy: async () => (await s.pool.query('select 1')).rowCount === 1 && (await s.keys.storage.healthy()) && (await (s.alsoHealthy?.() ?? true)),
    leads: (job) => s.leadership.leads(job),
    async close() {
      await s.stopFirst?.();
      await s.leadership.release();
      await s.eventStore.close();
      await s.keys.storage.end();
      await s.pool.end();
    },
  };
}

/**
 * Everything in PostgreSQL: the tenant logs and their read models in `schema` (folded inside each append,
 * so they never lag and are updated once per event whichever process appended it), the keys in
 * `keysSchema`. Several ledger processes can share the database.
 */
export async function openPostgresStorage(url: string, master: MasterKey, options: PostgresOptions = {}): Promise<LedgerStorage> {
  const { pool, eventStore: log, rebuilt } = await openPostgresLog(url, options);
  const worker = options.writes === 'in-thread' ? null : new PgWorkerEventStore(log, url, options.schema ?? 'pdl', options.onWorkerLost);
  try {
    const keys = await openPgKeyStore(url, master, () => new Date().toISOString(), options.keysSchema ?? KEYS_SCHEMA);
    return sharedPostgresStorage({
      pool, keys, leadership: new Leadership(pool), eventStore: worker ?? log, readModels: postgresReadModels(pool), rebuilt,
      ...(worker ? { alsoHealthy: async () => worker.healthy, workerHeap: () => worker.heap() } : {}),
    });
  } catch (e) {
    await worker?.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw e;
  }
}

/**
 * The tenant logs in PostgreSQL with their read models folded into each append: migrated, and rebuilt
 * from the log when their version changed (or when asked). The caller ends the pool.
 */
export async function openPostgresLog(url: string, options: PostgresOptions = {}): Promise<{ pool: pg.Pool; eventStore: PgEventStore; rebuilt: RebuildReport | null }> {
  const schema = options.schema ?? 'pdl';
  const pool = schemaPool(url, schema, options.connections ?? 10);
  try {
    // Entries are read back as UTF-8 text (the trail, the reports): a database of another encoding is refused now, not at the first read.
    const encoding = (await pool.query<{ server_encoding: string }>('show server_encoding')).rows[0]?.server_encoding;
    if (encoding !== 'UTF8') throw new Error(`the PostgreSQL database must use the UTF8 encoding (this one uses ${encoding}): create it with ENCODING 'UTF8'`);
    const projections = postgresProjections();
    const eventStore = await PgEventStore.on(pool, schema, projections);
    await migrate(pool, schema, 'read-models', READ_MODELS_LOCK, READ_MODEL_MIGRATIONS);
    // Read models of another version, or missing for a log that exists, are folded again from the log.
    const state = (await pool.query<{ version: number }>('select version from read_models where id = 1')).rows[0];
    const empty = (await pool.query('select 1 from events limit 1')).rowCount === 0;
    let rebuilt: RebuildReport | null = null;
    if (options.rebuild || (state ? state.version !== PG_READ_MODELS_VERSION : !empty)) {
      rebuilt = await rebuild(eventStore, projections, options.rebuild?.onProgress);
      // Emptied and filled again in one go: fresh statistics at once, for the planner's choices on them
      // (autovacuum would get there later, or never where it is off).
      await pool.query(`analyze ${READ_MODEL_TABLES.join(', ')}`);
    }
    else if (!state) await pool.query('insert into read_models (id, version, rebuilt_through) values (1, $1, null) on conflict do nothing', [PG_READ_MODELS_VERSION]);
    return { pool, eventStore, rebuilt };
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
}
