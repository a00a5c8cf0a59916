import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { encodeCursor, type Page } from '../../common/kernel/paging.js';
import { formatInstant } from '../../common/kernel/time.js';
import { FINDINGS_READ_MODEL, type FindingFilter, type FindingsReadModel, type StoredFinding } from '../findings-read-model.port.js';
import { RETENTION_READ_MODEL, type RetentionReadModel } from '../retention-read-model.port.js';
import { REQUESTS_READ_MODEL, type RequestsReadModel } from '../../requests/requests-read-model.port.js';
import { CONFIG, type PdlConfig } from '../../config/config.js';
import { FLUSH_DEFERRED, type FlushDeferred } from '../compliance-state.port.js';
import { finding, FINDING_SEVERITY, type FindingCode } from '../domain/finding.js';

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

/** Cursors at or past this number page through the findings evaluated at `at` (after the stored ones). */
const EVALUATED = 1e14;

/**
 * Findings raised when events were recorded; with `at`, also those evaluated at that moment:
 * `retention-exceeded` for every holding overdue then, `subject-request-overdue` for every request
 * not completed by its due date (listed after the recorded ones).
 */
export class ListFindings extends Query<Page<FindingItem>> {
  constructor(readonly tenant: string, readonly filter: FindingFilter, readonly after: number, readonly limit: number, readonly at?: string) { super(); }
}

@QueryHandler(ListFindings)
export class ListFindingsHandler implements IQueryHandler<ListFindings> {
  constructor(
    @Inject(FINDINGS_READ_MODEL) private readonly findings: FindingsReadModel,
    @Inject(RETENTION_READ_MODEL) private readonly retention: RetentionReadModel,
    @Inject(REQUESTS_READ_MODEL) private readonly requests: RequestsReadModel,
    @Inject(CONFIG) private readonly config: PdlConfig,
    @Inject(FLUSH_DEFERRED) private readonly flush: FlushDeferred,
  ) {}

  async execute({ tenant, filter, after, limit, at }: ListFindings): Promise<Page<FindingItem>> {
    const out: FindingItem[] = [];
    let last = after;
    if (after < EVALUATED) {
      const rows = await this.findings.page(tenant, filter, after, limit + 1);
      out.push(...rows.slice(0, limit).map(item));
      if (rows.length > limit) return { items: out, nextCursor: encodeCursor(rows[limit - 1]!.id) };
      if (!at) return { items: out, nextCursor: null };
      last = EVALUATED;
    }
    await this.flush();
    const evaluated = await this.evaluated(tenant, at!, filter);
    const offset = last - EVALUATED;
    const page = evaluated.slice(offset, offset + (limit - out.length));
    out.push(...page);
    const end = offset + page.length;
    return { items: out, nextCursor: end < evaluated.length ? encodeCursor(EVALUATED + end) : null };
  }

  private async evaluated(tenant: string, at: string, filter: FindingFilter): Promise<FindingItem[]> {
    const wants = (code: FindingCode) => (!filter.code || filter.code === code) && (!filter.severity || filter.severity === FINDING_SEVERITY[code]);
    const out: FindingItem[] = [];
    const shown = formatInstant(new Date(at));
    if (wants('retention-exceeded')) {
      for (let afterId = 0; ;) {
        const rows = await this.retention.page(tenant, at, { status: 'overdue', ...(filter.subject ? { subject: filter.subject } : {}) }, afterId, 1000, this.config.dueSoonDays);
        for (const h of rows) {
          out.push({
            ...finding('retention-exceeded', `"${h.category}" of ${h.subject} is still held in "${h.system}" on ${shown.slice(0, 10)}, past its retention deadline ${h.deadline!.slice(0, 10)} (purposes: ${h.purposes.join(', ')}).`),
            eventId: h.openedBy ?? '', position: -1, subject: h.subject, occurredAt: null, recordedAt: shown,
          });
        }
        if (rows.length < 1000) break;
        afterId = rows[rows.length - 1]!.id;
      }
    }
    if (wants('subject-request-overdue')) {
      for (let afterPosition = -1; ;) {
        const rows = await this.requests.subjectRequests(tenant, at, 'overdue', afterPosition, 1000);
        for (const r of rows) {
          if (filter.subject && r.subject.id !== filter.subject) continue;
          out.push({
            ...finding('subject-request-overdue', `the ${r.type} request of ${r.subject.id}, received ${r.receivedAt.slice(0, 10)}, was due on ${r.dueAt.slice(0, 10)} and is not completed.`),
            eventId: r.eventId, position: r.position, subject: r.subject.id, occurredAt: null, recordedAt: shown,
          });
        }
        if (rows.length < 1000) break;
        afterPosition = rows[rows.length - 1]!.position;
      }
    }
    return out;
  }
}
