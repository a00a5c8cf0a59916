import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { encodeCursor, type Page } from '../../common/kernel/paging.js';
import { formatInstant } from '../../common/kernel/time.js';
import { FINDINGS_READ_MODEL, type FindingFilter, type FindingsReadModel, type StoredFinding } from '../findings-read-model.port.js';

export interface FindingItem {
  readonly code: string;
  readonly severity: string;
  readonly message: string;
  /** The event that raised it (or the declaration, for `retention-unbounded`). */
  readonly eventId: string;
  readonly position: number;
  readonly subject: string | null;
  readonly occurredAt: string | null;
  readonly recordedAt: string;
}

const item = (f: StoredFinding): FindingItem => ({
  code: f.code, severity: f.severity, message: f.message, eventId: f.eventId, position: f.position, subject: f.subject,
  occurredAt: f.occurredAt === null ? null : formatInstant(new Date(f.occurredAt)), recordedAt: formatInstant(new Date(f.recordedAt)),
});

export class ListFindings extends Query<Page<FindingItem>> {
  constructor(readonly tenant: string, readonly filter: FindingFilter, readonly after: number, readonly limit: number) { super(); }
}

@QueryHandler(ListFindings)
export class ListFindingsHandler implements IQueryHandler<ListFindings> {
  constructor(@Inject(FINDINGS_READ_MODEL) private readonly findings: FindingsReadModel) {}

  async execute({ tenant, filter, after, limit }: ListFindings): Promise<Page<FindingItem>> {
    const rows = this.findings.page(tenant, filter, after, limit + 1);
    const items = rows.slice(0, limit);
    return { items: items.map(item), nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]!.id) : null };
  }
}
