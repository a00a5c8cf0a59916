import { Controller, Get, Head, Header, Inject } from '@nestjs/common';
import { LedgerMetrics } from '../../operability/metrics.js';
import { STORAGE, type Storage } from '../../storage/storage.module.js';
import { openApiDocument } from './openapi.js';
import { problem } from './problem.js';

@Controller()
export class OperabilityController {
  constructor(private readonly metrics: LedgerMetrics, @Inject(STORAGE) private readonly storage: Storage) {}

  @Get('health')
  async health() {
    let ok = false;
    try { ok = await this.storage.healthy(); } catch { ok = false; }
    if (!ok) throw problem(503, 'store-unavailable', 'The ledger store is unavailable', 'The store does not answer.');
    return { status: 'ok' };
  }

  /** HEAD too, for load balancers that ask so: the one route that takes it (see bootstrap's `exposeHeadRoutes`). */
  @Head('health')
  healthHead() {
    return this.health();
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText() {
    return this.metrics.registry.metrics();
  }

  @Get('docs')
  docs() {
    return openApiDocument();
  }
}
