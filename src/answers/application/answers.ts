import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AUDIT_TRAIL_READ_MODEL, type AuditRow, type AuditTrailReadModel } from '../../audit-trail/audit-trail-read-model.port.js';
import { CLOCK } from '../../common/application/tokens.js';
import { pageOf, type Page } from '../../common/kernel/paging.js';
import { formatInstant, sortableInstant, type Clock } from '../../common/kernel/time.js';
import { FLUSH_DEFERRED, type FlushDeferred } from '../../compliance/compliance-state.port.js';
import { DECLARATIONS_READ_MODEL, type DeclarationsReadModel } from '../../declarations/declarations-read-model.port.js';
import type { PurposeBody, RecipientBody, SystemBody, Declared } from '../../declarations/domain/declaration.js';
import { REQUESTS_READ_MODEL, type RequestsReadModel } from '../../requests/requests-read-model.port.js';
import { TENANT_DIRECTORY, type TenantDirectory } from '../../tenancy/tenant-directory.port.js';
import { ANSWERS_READ_MODEL, type AccessLogRow, type AnswersReadModel } from '../answers-read-model.port.js';
import { recordsOfProcessing, type RecordsOfProcessing } from '../domain/ropa.js';

/** The records of processing (Art. 30) as declared and observed up to `asOf` (default: now). */
export class GetRecordsOfProcessing extends Query<RecordsOfProcessing> {
  constructor(readonly tenant: string, readonly asOf: string | undefined) { super(); }
}

@QueryHandler(GetRecordsOfProcessing)
export class GetRecordsOfProcessingHandler implements IQueryHandler<GetRecordsOfProcessing> {
  constructor(
    @Inject(ANSWERS_READ_MODEL) private readonly answers: AnswersReadModel,
    @Inject(DECLARATIONS_READ_MODEL) private readonly declarations: DeclarationsReadModel,
    @Inject(TENANT_DIRECTORY) private readonly tenants: TenantDirectory,
    @Inject(FLUSH_DEFERRED) private readonly flush: FlushDeferred,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ tenant, asOf }: GetRecordsOfProcessing): Promise<RecordsOfProcessing> {
    await this.flush();
    const through = asOf ? await this.answers.positionAt(tenant, sortableInstant(asOf)) : Number.MAX_SAFE_INTEGER;
    const [settings, purposes, systems, recipients, observed, subjects] = await Promise.all([
      this.tenants.tenant(tenant), this.declarations.list(tenant, 'purposes', asOf), this.declarations.list(tenant, 'systems', asOf),
      this.declarations.list(tenant, 'recipients', asOf), this.answers.observed(tenant, through), this.answers.subjectCounts(tenant, through),
    ]);
    return recordsOfProcessing({
      tenant: { id: tenant, name: settings!.name, residency: settings!.residency }, generatedAt: formatInstant(this.clock.now()), asOf: asOf ?? null,
      purposes: purposes as Array<Declared<PurposeBody>>, systems: systems as Array<Declared<SystemBody>>, recipients: recipients as Array<Declared<RecipientBody>>,
      observed, subjects,
    });
  }
}

export interface DisclosureFilter {
  readonly recipient?: string;
  readonly recipientKind?: RecipientBody['kind'];
  /** occurredAt bounds (fixed-width text), from inclusive, to exclusive. */
  readonly from?: string;
  readonly to?: string;
}

/** The disclosure register: what went to which recipient, in log order, each with its authority request. */
export class ListDisclosures extends Query<Page<Record<string, unknown>>> {
  constructor(readonly tenant: string, readonly filter: DisclosureFilter, readonly after: number, readonly limit: number) { super(); }
}

/** How a disclosure (or a transfer to a recipient) reads in the register and under its authority request. */
export function disclosureItem(row: AuditRow, recipient: (id: string) => RecipientBody | null, request: (id: string) => Record<string, unknown> | null): Record<string, unknown> {
  const e = row.entry;
  const d = e.details ?? {};
  const to = String(d.recipient);
  const decl = recipient(to);
  const ref = typeof d.authorityRequestId === 'string' ? d.authorityRequestId : null;
  return {
    position: row.position, hash: row.hash, recordedAt: e.recordedAt, eventId: e.eventId, type: e.type, occurredAt: e.occurredAt,
    subject: { id: e.subject.id }, categories: e.categories, purpose: e.purpose, system: e.system,
    recipient: { id: to, declared: decl !== null, name: decl?.name ?? null, kind: decl?.kind ?? null, country: decl?.country ?? null },
    ...(e.type === 'transferred' ? { transfer: { country: d.country, mechanism: d.mechanism } } : {}),
    ...(ref ? { authorityRequest: request(ref) ?? { id: ref, known: false } } : {}),
  };
}

@QueryHandler(ListDisclosures)
export class ListDisclosuresHandler implements IQueryHandler<ListDisclosures> {
  constructor(
    @Inject(AUDIT_TRAIL_READ_MODEL) private readonly trail: AuditTrailReadModel,
    @Inject(DECLARATIONS_READ_MODEL) private readonly declarations: DeclarationsReadModel,
    @Inject(REQUESTS_READ_MODEL) private readonly requests: RequestsReadModel,
  ) {}

  async execute({ tenant, filter, after, limit }: ListDisclosures): Promise<Page<Record<string, unknown>>> {
    const declared = new Map((await this.declarations.list(tenant, 'recipients')).map((r) => [r.id, r.body as RecipientBody]));
    let recipients: string[] | undefined = filter.recipient !== undefined ? [filter.recipient] : undefined;
    if (filter.recipientKind !== undefined) {
      const ofKind = [...declared].filter(([, r]) => r.kind === filter.recipientKind).map(([id]) => id);
      recipients = recipients ? recipients.filter((r) => ofKind.includes(r)) : ofKind;
    }
    if (recipients?.length === 0) return { items: [], nextCursor: null };
    const rows = await this.trail.page(tenant, {
      disclosures: true, ...(recipients ? { recipients } : {}), ...(filter.from ? { from: filter.from } : {}), ...(filter.to ? { to: filter.to } : {}),
    }, after, limit + 1);
    // The requests the page's disclosures were made under, read at once (one query on PostgreSQL, not one each).
    const refs = rows.slice(0, limit).flatMap(({ entry }) => (typeof entry.details?.authorityRequestId === 'string' ? [entry.details.authorityRequestId] : []));
    const requests = new Map((await this.requests.authorityRequestsById(tenant, refs)).map((ar) => [ar.id,
      { id: ar.id, authority: ar.authority, reference: ar.reference, legalBasis: ar.legalBasis, decision: ar.decision, sealed: ar.sealed } as Record<string, unknown>]));
    return pageOf(rows, limit, (r) => r.position, (r) => disclosureItem(r, (id) => declared.get(id) ?? null, (id) => requests.get(id) ?? null));
  }
}

/** Who read which subject's data, when, and what (dpo, auditor). */
export type AccessLogItem = Omit<AccessLogRow, 'detail' | 'subjects'> & { readonly subjects: ReadonlyArray<{ readonly id: string }>; readonly why: string } & Record<string, unknown>;
export class ListAccessLog extends Query<Page<AccessLogItem>> {
  constructor(readonly tenant: string, readonly filter: { subject?: string; from?: string; to?: string }, readonly after: number, readonly limit: number) { super(); }
}

const WHY: Readonly<Record<string, string>> = {
  report: 'subject access report (GDPR Art. 15)',
  'audit-trail': 'audit trail with identifiers opened',
  lookup: 'lookup of a subject by identifier',
};

@QueryHandler(ListAccessLog)
export class ListAccessLogHandler implements IQueryHandler<ListAccessLog> {
  constructor(@Inject(ANSWERS_READ_MODEL) private readonly answers: AnswersReadModel) {}

  async execute({ tenant, filter, after, limit }: ListAccessLog): Promise<Page<AccessLogItem>> {
    return pageOf(await this.answers.accessLog(tenant, filter, after, limit + 1), limit, (r) => r.position, ({ detail, subjects, ...r }) => ({
      ...r, subjects: subjects.map((id) => ({ id })), why: WHY[r.what] ?? r.what, ...detail,
    }));
  }
}

export const ANSWER_PROVIDERS = [GetRecordsOfProcessingHandler, ListDisclosuresHandler, ListAccessLogHandler];
