import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { pageOf, type Page } from '../../common/kernel/paging.js';
import { CONFIG, type PdlConfig } from '../../config/config.js';
import type { RetentionStatus } from '../domain/subject-state.js';
import { FLUSH_DEFERRED, type FlushDeferred } from '../compliance-state.port.js';
import { RETENTION_READ_MODEL, type RetentionItem, type RetentionReadModel } from '../retention-read-model.port.js';

export class ListRetention extends Query<Page<RetentionItem>> {
  constructor(readonly tenant: string, readonly at: string, readonly filter: { status?: RetentionStatus; subject?: string }, readonly after: number, readonly limit: number) { super(); }
}

@QueryHandler(ListRetention)
export class ListRetentionHandler implements IQueryHandler<ListRetention> {
  constructor(@Inject(RETENTION_READ_MODEL) private readonly retention: RetentionReadModel, @Inject(CONFIG) private readonly config: PdlConfig, @Inject(FLUSH_DEFERRED) private readonly flush: FlushDeferred) {}

  async execute({ tenant, at, filter, after, limit }: ListRetention): Promise<Page<RetentionItem>> {
    await this.flush();
    return pageOf(await this.retention.page(tenant, at, filter, after, limit + 1, this.config.dueSoonDays), limit, (r) => r.id, ({ id: _id, ...item }) => item);
  }
}
