import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { CONFIG, type PdlConfig } from '../../config/config.js';
import { LOGGER } from '../../operability/logger.js';
import { JOB_LEADERSHIP, type JobLeadership } from '../../common/application/tokens.js';
import { TENANT_DIRECTORY, type TenantDirectory } from '../../tenancy/tenant-directory.port.js';
import { Shredder } from './shredder.js';
import { KEY_STORE } from '../../storage/storage.tokens.js';
import type { KeyStore } from '../key-store.port.js';
import { MERKLE_TREE, type MerkleTreeReader } from '../../integrity/integrity.ports.js';
import { LogMarks } from './log-marks.js';

/**
 * In the server: finishes at start-up what a crash left half-shredded; then, in the background, sweeps
 * the erasures in the logs since the last complete sweep (so one whose shredding did not happen when it
 * was recorded — a crash, a store failure — is shredded now; the key store keeps how far each tenant's
 * sweep got, with the leaf hash there, and a mark that does not match the log means a sweep from the
 * start); and every `PDL_RETENTION_ENFORCE_INTERVAL_MS` sweeps the erasures
 * recorded since and destroys the keys whose legal hold has ended. (`pdl retention enforce [--at]` does
 * the same by hand.) Idempotent: a run that finds nothing due changes nothing. Of several processes on
 * one database, the one that leads the `retention` job runs the sweeps (erasures recorded through the
 * others are shredded by them when recorded, as everywhere).
 */
@Injectable()
export class RetentionEnforcer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopping = false;
  /** Per tenant, the log position up to which erasures were swept. */
  private readonly swept = new Map<string, number>();

  constructor(
    private readonly shredder: Shredder,
    @Inject(TENANT_DIRECTORY) private readonly tenants: TenantDirectory,
    @Inject(CONFIG) private readonly config: PdlConfig,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(JOB_LEADERSHIP) private readonly leads: JobLeadership,
    @Inject(KEY_STORE) keys: KeyStore,
    @Inject(MERKLE_TREE) tree: MerkleTreeReader,
  ) {
    this.marks = new LogMarks(keys, tree);
  }

  private readonly marks: LogMarks;

  /** Where the tenant's sweep starts: after its stored mark, if the mark still matches the log. */
  private async sweptThrough(tenant: string): Promise<number> {
    const known = this.swept.get(tenant);
    if (known !== undefined) return known;
    const from = await this.marks.through(tenant, 'erasure-sweep', () => this.log.warn({ tenant }, 'retention: the stored erasure sweep mark does not match the log; sweeping it from the start'));
    this.swept.set(tenant, from);
    return from;
  }

  private async sweep(tenant: string, stop: () => boolean) {
    const from = await this.sweptThrough(tenant);
    const to = await this.shredder.sweep(tenant, from, stop);
    if (to <= from) return;
    await this.marks.set(tenant, 'erasure-sweep', to);
    this.swept.set(tenant, to);
  }

  async onApplicationBootstrap() {
    const finished = await this.shredder.reconcile(await this.tenants.tenantIds(), this.marks);
    if (finished) this.log.warn({ keys: finished }, 'finished destroying keys whose destruction was recorded before a stop');
    this.schedule();
    if (this.config.retentionEnforceIntervalMs > 0) {
      this.timer = setInterval(() => this.schedule(), this.config.retentionEnforceIntervalMs);
      this.timer.unref();
    }
  }

  private schedule() {
    if (this.stopping) return;
    this.running ??= this.run().finally(() => { this.running = null; });
  }

  private async run() {
    try {
      // Among ledger processes sharing a database, one sweeps and enforces (each would record the same destructions).
      if (!(await this.leads('retention'))) return;
      const stop = () => this.stopping;
      for (const tenant of await this.tenants.tenantIds()) await this.sweep(tenant, stop);
      const { destroyed } = await this.shredder.enforce(undefined, stop);
      if (destroyed) this.log.info({ keys: destroyed }, 'destroyed keys whose legal hold ended');
    } catch (e) {
      this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'retention: could not enforce erasures and legal holds');
    }
  }

  /** Stops between two groups of subjects: shutting down waits for one group at most. */
  async beforeApplicationShutdown() {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
