import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { CONFIG, type PdlConfig } from '../../config/config.js';
import { LOGGER } from '../../operability/logger.js';
import { JOB_LEADERSHIP, type JobLeadership } from '../../common/application/tokens.js';
import { TENANT_DIRECTORY, type TenantDirectory } from '../../tenancy/tenant-directory.port.js';
import { Shredder } from './shredder.js';

/**
 * In the server: finishes at start-up what a crash left half-shredded; then, in the background, sweeps
 * every erasure in the logs (so one whose shredding did not happen when it was recorded — a crash, a
 * store failure — is shredded now); and every `PDL_RETENTION_ENFORCE_INTERVAL_MS` sweeps the erasures
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
  /** Per tenant, the log position up to which erasures were swept (in memory: every start sweeps all once). */
  private readonly swept = new Map<string, number>();

  constructor(
    private readonly shredder: Shredder,
    @Inject(TENANT_DIRECTORY) private readonly tenants: TenantDirectory,
    @Inject(CONFIG) private readonly config: PdlConfig,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(JOB_LEADERSHIP) private readonly leads: JobLeadership,
  ) {}

  async onApplicationBootstrap() {
    const finished = await this.shredder.reconcile();
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
      for (const tenant of await this.tenants.tenantIds()) this.swept.set(tenant, await this.shredder.sweep(tenant, this.swept.get(tenant) ?? -1, stop));
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
