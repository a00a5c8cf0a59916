import { Global, Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { recoverBlindIndex } from '../keys/application/blind-index-recovery.js';
import { AUDIT_TRAIL_READ_MODEL } from '../audit-trail/audit-trail-read-model.port.js';
import { CONFIG, type PdlConfig } from '../config/config.js';
import { DECLARATIONS_READ_MODEL } from '../declarations/declarations-read-model.port.js';
import { IdentifierVault } from '../keys/application/identifier-vault.js';
import type { MasterKey } from '../keys/master-key.js';
import { LedgerWriter } from '../ledger/application/ledger-writer.js';
import { CachedTenantDirectory } from '../tenancy/application/cached-tenant-directory.js';
import { LedgerMetrics } from '../operability/metrics.js';
import { CLOCK, ID_GENERATOR, JOB_LEADERSHIP, type JobLeadership } from '../common/application/tokens.js';
import { randomIds } from '../common/kernel/ids.js';
import { systemClock, type Clock } from '../common/kernel/time.js';
import { TENANT_DIRECTORY } from '../tenancy/tenant-directory.port.js';
import { openConfiguredStorage } from './open-storage.js';
import type { LedgerStorage } from './storage.js';
import { EVENT_STORE, KEY_STORE } from './storage.tokens.js';
import { FINDINGS_READ_MODEL } from '../compliance/findings-read-model.port.js';
import { RETENTION_READ_MODEL } from '../compliance/retention-read-model.port.js';
import { COMPLIANCE_STATE, DECISION_JUDGE, FLUSH_DEFERRED } from '../compliance/compliance-state.port.js';
import { REQUESTS_READ_MODEL } from '../requests/requests-read-model.port.js';
import { ANSWERS_READ_MODEL } from '../answers/answers-read-model.port.js';
import { CHECKPOINT_STORE, MERKLE_TREE } from '../integrity/integrity.ports.js';
import { SigningKeyring } from '../integrity/signing-keys.js';
import { LOGGER } from '../operability/logger.js';
import { throttled } from '../operability/throttled.js';
import type { Logger } from 'pino';

/** A store refusing commits is logged once, then at most once every ten seconds with how many refusals went unlogged. */
const REFUSALS_LOGGED_EVERY_MS = 10_000;

export const STORAGE = Symbol('Storage');
export const MASTER_KEY = Symbol('MasterKey');
export type Storage = LedgerStorage;

/** Exit code of a server whose storage thread ended unasked (EX_SOFTWARE). */
export const EXIT_STORAGE_LOST = 70;

/**
 * A storage thread that ends unasked (out of memory, say) cannot be started again under the requests it
 * failed: the process stops, a moment after those requests are answered (503), so that what supervises it
 * starts it again — as after a crash: every acknowledged entry is on disk, and what the thread held in
 * memory (the deferred indexes' groups) is completed from the log at start. Until 2026-12-02 the server
 * stayed up, unhealthy, refusing every write until someone restarted it.
 */
export const stopWhenStorageLost = (log: Logger) => (reason: Error): void => {
  log.error({ reason: reason.message, exitCode: EXIT_STORAGE_LOST }, 'the storage thread ended: the ledger stops, to be started again');
  setTimeout(() => process.exit(EXIT_STORAGE_LOST), 250);
};

/** Opens the configured backend and provides its ports; closes it after the writer has drained. */
@Global()
@Module({
  providers: [
    { provide: CLOCK, useValue: systemClock },
    { provide: ID_GENERATOR, useValue: randomIds },
    LedgerMetrics,
    {
      provide: STORAGE,
      inject: [CONFIG, MASTER_KEY, LOGGER, LedgerMetrics],
      useFactory: async (config: PdlConfig, master: MasterKey, log: Logger, metrics: LedgerMetrics): Promise<Storage> => {
        const storage = await openConfiguredStorage(config, master, { log, onWorkerLost: stopWhenStorageLost(log) });
        metrics.watchWorkerHeap(storage.workerHeap);
        if (storage.rebuilt) log.warn({ events: storage.rebuilt.events, ms: storage.rebuilt.ms, resumed: storage.rebuilt.resumed }, 'rebuilt the read models from the log (their version changed, or a rebuild had not finished)');
        return storage;
      },
    },
    { provide: EVENT_STORE, inject: [STORAGE], useFactory: (s: Storage) => s.eventStore },
    { provide: JOB_LEADERSHIP, inject: [STORAGE], useFactory: (s: Storage): JobLeadership => (job) => s.leads(job) },
    { provide: KEY_STORE, inject: [STORAGE], useFactory: (s: Storage) => s.keyStore },
    { provide: MERKLE_TREE, inject: [STORAGE], useFactory: (s: Storage) => s.merkle },
    { provide: FINDINGS_READ_MODEL, inject: [STORAGE], useFactory: (s: Storage) => s.findings },
    { provide: RETENTION_READ_MODEL, inject: [STORAGE], useFactory: (s: Storage) => s.retention },
    { provide: COMPLIANCE_STATE, inject: [STORAGE], useFactory: (s: Storage) => s.retention },
    { provide: REQUESTS_READ_MODEL, inject: [STORAGE], useFactory: (s: Storage) => s.requests },
    { provide: ANSWERS_READ_MODEL, inject: [STORAGE], useFactory: (s: Storage) => s.answers },
    { provide: DECISION_JUDGE, inject: [STORAGE], useFactory: (s: Storage) => s.decisions },
    { provide: FLUSH_DEFERRED, inject: [STORAGE], useFactory: (s: Storage) => s.flushDeferred },
    { provide: CHECKPOINT_STORE, inject: [STORAGE], useFactory: (s: Storage) => s.checkpoints },
    {
      provide: SigningKeyring,
      inject: [CONFIG, LOGGER],
      useFactory: (config: PdlConfig, log: Logger) => {
        const { keyring, created } = SigningKeyring.open(config.dataDir, config.ledgerName, config.signingKey, () => new Date().toISOString());
        if (created) log.warn({ file: created }, 'created a checkpoint-signing key; its public part is served at /v1/keys');
        return keyring;
      },
    },
    {
      // Read on every request; cached when no other process can change it behind this one's back.
      provide: TENANT_DIRECTORY,
      inject: [STORAGE, LedgerWriter],
      useFactory: (s: Storage, writer: LedgerWriter) => {
        if (!s.exclusive) return s.tenants;
        const cached = new CachedTenantDirectory(s.tenants);
        writer.onCommit((_tenant, administrative) => { if (administrative) cached.invalidate(); });
        return cached;
      },
    },
    { provide: DECLARATIONS_READ_MODEL, inject: [STORAGE], useFactory: (s: Storage) => s.declarations },
    { provide: AUDIT_TRAIL_READ_MODEL, inject: [STORAGE], useFactory: (s: Storage) => s.auditTrail },
    { provide: IdentifierVault, inject: [STORAGE], useFactory: (s: Storage) => new IdentifierVault(s.keyStore) },
    {
      provide: LedgerWriter,
      inject: [STORAGE, IdentifierVault, CLOCK, LedgerMetrics, LOGGER],
      useFactory: (s: Storage, vault: IdentifierVault, clock: Clock, metrics: LedgerMetrics, log: Logger) =>
        new LedgerWriter(s.eventStore, s.keyStore, vault, clock, metrics, (tenant, ids) => s.findings.ofEvents(tenant, ids),
          throttled(REFUSALS_LOGGED_EVERY_MS, (reason, quiet) => log.warn({ reason, ...(quiet ? { refusalsNotLogged: quiet } : {}) }, 'requests refused: the store is unavailable'))),
    },
  ],
  exports: [CLOCK, ID_GENERATOR, JOB_LEADERSHIP, LedgerMetrics, STORAGE, EVENT_STORE, KEY_STORE, MERKLE_TREE, FINDINGS_READ_MODEL, RETENTION_READ_MODEL, COMPLIANCE_STATE, REQUESTS_READ_MODEL, ANSWERS_READ_MODEL, DECISION_JUDGE, FLUSH_DEFERRED, CHECKPOINT_STORE, SigningKeyring, TENANT_DIRECTORY, DECLARATIONS_READ_MODEL, AUDIT_TRAIL_READ_MODEL, IdentifierVault, LedgerWriter],
})
export class StorageModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(STORAGE) private readonly storage: Storage, private readonly writer: LedgerWriter, private readonly vault: IdentifierVault) {}

  /** Before serving: complete the blind index from the log where a crash left it behind. */
  async onModuleInit() {
    for (const tenant of await this.storage.tenants.tenantIds()) await recoverBlindIndex(this.storage.eventStore, this.storage.keyStore, this.vault, tenant);
  }

  async onApplicationShutdown() {
    await this.writer.drain();
    await this.storage.close();
  }
}
