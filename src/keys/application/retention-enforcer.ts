import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { CONFIG, type PdlConfig } from '../../config/config.js';
import { LOGGER } from '../../operability/logger.js';
import { Shredder } from './shredder.js';

/**
 * In the server: finishes at start-up what a crash left half-shredded, then every
 * `PDL_RETENTION_ENFORCE_INTERVAL_MS` destroys the keys whose legal hold has ended. (`pdl retention
 * enforce [--at]` does the same by hand.) Idempotent: a run that finds nothing due changes nothing.
 */
@Injectable()
export class RetentionEnforcer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly shredder: Shredder, @Inject(CONFIG) private readonly config: PdlConfig, @Inject(LOGGER) private readonly log: Logger) {}

  async onApplicationBootstrap() {
    const finished = await this.shredder.reconcile();
    if (finished) this.log.warn({ keys: finished }, 'finished destroying keys whose destruction was recorded before a stop');
    if (this.config.retentionEnforceIntervalMs > 0) {
      this.timer = setInterval(() => { this.running ??= this.run().finally(() => { this.running = null; }); }, this.config.retentionEnforceIntervalMs);
      this.timer.unref();
    }
  }

  private async run() {
    try {
      const { destroyed } = await this.shredder.enforce();
      if (destroyed) this.log.info({ keys: destroyed }, 'destroyed keys whose legal hold ended');
    } catch (e) {
      this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'retention: could not enforce legal holds');
    }
  }

  async beforeApplicationShutdown() {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
