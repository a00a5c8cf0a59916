import { join } from 'node:path';
import { SqliteAuditTrailReadModel } from '../audit-trail/sqlite/sqlite-audit-trail-read-model.js';
import { SqliteDeclarationsReadModel } from '../declarations/sqlite/sqlite-declarations-read-model.js';
import type { MasterKey } from '../keys/master-key.js';
import { SqliteKeyStore } from '../keys/sqlite/sqlite-key-store.js';
import { ensureKeySchema, SqliteKeyWriter } from '../keys/sqlite/sqlite-key-writer.js';
import { SqliteEventStore } from '../ledger/sqlite/sqlite-event-store.js';
import { SqliteLogAppender } from '../ledger/sqlite/sqlite-log-appender.js';
import { openDatabase } from '../common/sqlite/open-database.js';
import { lockDataDir } from '../common/sqlite/data-dir-lock.js';
import { SqliteTenantDirectory } from '../tenancy/sqlite/sqlite-tenant-directory.js';
import { rebuildApart } from './rebuild-apart.js';
import { embeddedProjections, readModelsVersion } from './embedded-projections.js';
import { SqliteAnswersReadModel } from '../answers/sqlite/sqlite-answers-read-model.js';
import { resetStaleReadModels, type RebuildReport } from '../ledger/sqlite/sqlite-log-appender.js';
import Database from 'better-sqlite3';
import { SqliteMerkleTree } from '../integrity/sqlite/sqlite-merkle.js';
import { SqliteFindings } from '../compliance/sqlite/sqlite-findings.js';
import { SqliteRetention } from '../compliance/sqlite/sqlite-retention.js';
import { SqliteRequestsReadModel } from '../requests/sqlite/sqlite-requests-read-model.js';
import { SqliteJudge } from '../compliance/sqlite/sqlite-judge.js';
import type { Fact } from '../compliance/domain/rules.js';
import { SqliteCheckpointStore } from '../integrity/sqlite/sqlite-checkpoint-store.js';
import { WriteWorkerClient } from './write-worker-client.js';
import type { OnWorkerLost } from './worker-calls.js';
import { promised } from '../common/kernel/promised.js';
import { warmFile } from '../common/sqlite/warm-file.js';

export interface EmbeddedOptions {
  /**
   * `worker` (the server's choice): commits run on a storage worker thread, beside request handling.
   * `in-thread`: every write on the calling thread (tools and tests that run from TypeScript sources).
   */
  readonly writes?: 'worker' | 'in-thread';
  /** false: no compliance engine (only to measure its cost). */
  readonly rules?: boolean;
  /** false: no read models but what the append path reads (only to measure what they cost: nothing answers from such a store). */
  readonly readModels?: boolean;
  /** Rebuild every read model from the log before opening (`pdl rebuild`), reporting progress. */
  readonly rebuild?: { readonly onProgress?: (through: bigint, head: bigint) => void };
  /** Called if the storage worker ends unasked (the server stops then: see `StorageModule`). */
  readonly onWorkerLost?: OnWorkerLost;
}

/**
 * The embedded backend: `ledger.db` (the log and the read models folded inline from it) and
 * `keys.db` (data keys and the blind index), two SQLite files in the data directory.
 */
export function openEmbeddedStorage(dataDir: string, master: MasterKey, options: EmbeddedOptions = {}) {
  const lock = lockDataDir(dataDir);
  const projectionOptions = { rules: options.rules !== false, readModels: options.readModels !== false };
  const ledgerFile = join(dataDir, 'ledger.db');
  const keysFile = join(dataDir, 'keys.db');
  const ledgerDb = openDatabase(ledgerFile);
  const keysDb = openDatabase(keysFile, { secureDelete: true });
  ensureKeySchema(keysDb);
  // Read models of another version (or a rebuild asked for) are dropped before their projections are
  // made, so that these find their new tables; the appender then folds them again from the log.
  const scratch = new Database(':memory:');
  // A rebuild (asked for, or of read models of another version) reads the whole file first, in order:
  // dropping the old tables visits every one of their pages, and the fold reads the log after.
  const reset = resetStaleReadModels(ledgerDb, embeddedProjections(scratch, projectionOptions), readModelsVersion(projectionOptions), options.rebuild !== undefined,
    () => warmFile(ledgerFile));
  scratch.close();
  // Tables exist, and deferred indexes are complete, before anything reads them, whichever thread writes.
  const appender = new SqliteLogAppender(ledgerDb, openDatabase(ledgerFile), embeddedProjections(ledgerDb, projectionOptions), {
    version: readModelsVersion(projectionOptions), ...(options.rebuild?.onProgress ? { onProgress: options.rebuild.onProgress } : {}),
    apart: rebuildApart(ledgerFile, readModelsVersion(projectionOptions)),
  });
  const rebuilt: RebuildReport | null = appender.rebuilt && { ...appender.rebuilt, resumed: appender.rebuilt.resumed && !reset };
  let worker: WriteWorkerClient | null = null;
  let keyWriter: SqliteKeyWriter | null = null;
  let eventStore: SqliteEventStore;
  let keyStore: SqliteKeyStore;
  const now = () => new Date().toISOString();
  if (options.writes === 'in-thread') {
    keyWriter = new SqliteKeyWriter(openDatabase(keysFile, { secureDelete: true }), openDatabase(keysFile, { secureDelete: true }));
    eventStore = new SqliteEventStore(ledgerDb, async (appends) => appender.append(appends), () => appender.closeIndexes());
    keyStore = new SqliteKeyStore(keysDb, keyWriter.inThread(), master, now);
  } else {
    appender.closeIndexes();
    worker = new WriteWorkerClient(dataDir, projectionOptions, options.onWorkerLost);
    eventStore = new SqliteEventStore(ledgerDb, worker.logWrites);
    keyStore = new SqliteKeyStore(keysDb, worker.keyWrites, master, now);
  }
  // The compliance state and declarations as this thread reads them (decisions, retention, erasure status).
  const complianceReader = new SqliteJudge(ledgerDb, false);
  const checkpoints = new SqliteCheckpointStore(openDatabase(join(dataDir, 'checkpoints.db')));
  return {
    eventStore,
    keyStore,
    merkle: promised(new SqliteMerkleTree(ledgerDb)),
    findings: promised(new SqliteFindings(ledgerDb)),
    retention: promised(new SqliteRetention(complianceReader)),
    requests: promised(new SqliteRequestsReadModel(ledgerDb)),
    decisions: { judge: async (tenant: string, fact: Fact) => complianceReader.judge(tenant, fact, false) },
    /** Writes the deferred indexes out, for readers that must see everything committed. */
    flushDeferred: (): Promise<void> => (worker ? worker.flushLog() : Promise.resolve(appender.flush())),
    checkpoints: promised(checkpoints),
    tenants: promised(new SqliteTenantDirectory(ledgerDb)),
    declarations: promised(new SqliteDeclarationsReadModel(ledgerDb)),
    auditTrail: promised(new SqliteAuditTrailReadModel(ledgerDb)),
    answers: promised(new SqliteAnswersReadModel(ledgerDb)),
    /** What the start-up rebuild of the read models did, if one ran. */
    rebuilt,
    /** The storage worker's heap, when writes run on one. */
    workerHeap: (): Promise<{ used: number; total: number } | null> => (worker ? worker.heap() : Promise.resolve(null)),
    exclusive: true,
    /** One process owns a data directory: it runs every job. */
    leads: (_job: string) => Promise.resolve(true),
    healthy: () => ledgerDb.open && keysDb.open && (worker?.healthy ?? true) && (ledgerDb.prepare('select 1 as ok').get() as { ok: number }).ok === 1,
    async close() {
      await worker?.close();
      keyWriter?.close();
      await eventStore.close();
      keyStore.close();
      checkpoints.close();
      lock.release();
    },
  };
}
export type EmbeddedStorage = ReturnType<typeof openEmbeddedStorage>;
