import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { CONFIG, type PdlConfig } from '../../config/config.js';
import { LedgerWriter } from '../../ledger/application/ledger-writer.js';
import { LOGGER } from '../../operability/logger.js';
import { TENANT_DIRECTORY, type TenantDirectory } from '../../tenancy/tenant-directory.port.js';
import { Checkpointer } from './checkpointer.js';

/**
 * Produces checkpoints without being asked: every `PDL_CHECKPOINT_INTERVAL_MS` for the tenants whose
 * log grew, or, with 0, right after each commit. (`…/checkpoints/latest` also signs on demand.)
 */
@Injectable()
export class CheckpointScheduler implements OnModuleInit, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private readonly due = new Set<string>();
  private pending = false;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly checkpointer: Checkpointer,
    private readonly writer: LedgerWriter,
    @Inject(TENANT_DIRECTORY) private readonly tenants: TenantDirectory,
    @Inject(CONFIG) private readonly config: PdlConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onModuleInit() {
    for (const t of await this.tenants.tenantIds()) this.due.add(t);
    this.writer.onCommit((tenant) => {
      this.due.add(tenant);
      if (this.config.checkpointIntervalMs === 0 && !this.pending) {
        this.pending = true;
        setImmediate(() => void this.run());
      }
    });
    if (this.config.checkpointIntervalMs > 0) {
      this.timer = setInterval(() => void this.run(), this.config.checkpointIntervalMs);
      this.timer.unref();
    }
    void this.run();
  }

  /** Signs a checkpoint for every tenant whose log grew since the last run (one run at a time). */
  run(): Promise<void> {
    this.running = this.running.then(() => this.signDue());
    return this.running;
  }

  private async signDue(): Promise<void> {
    this.pending = false;
    const tenants = [...this.due];
    this.due.clear();
    for (const tenant of tenants) {
      try {
        const r = await this.checkpointer.latest(tenant);
        if (r._tag === 'Left') this.log.error({ tenant, problem: r.left._tag }, 'integrity: refused to sign a checkpoint for this tenant');
      } catch (e) {
        this.log.error({ tenant, err: e instanceof Error ? e.message : String(e) }, 'integrity: could not sign a checkpoint');
      }
    }
  }

  async onApplicationShutdown() {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
