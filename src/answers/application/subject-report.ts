import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { CLOCK } from '../../common/application/tokens.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import { formatInstant, sortableInstant, type Clock } from '../../common/kernel/time.js';
import { AUDIT_TRAIL_READ_MODEL, type AuditTrailReadModel } from '../../audit-trail/audit-trail-read-model.port.js';
import { DECLARATIONS_READ_MODEL, type DeclarationsReadModel } from '../../declarations/declarations-read-model.port.js';
import type { Declared, PurposeBody, RecipientBody, SystemBody } from '../../declarations/domain/declaration.js';
import { IdentifierVault, type KeyMemo } from '../../keys/application/identifier-vault.js';
import { submittedForm } from '../../ledger/domain/submission.js';
import { REQUESTS_READ_MODEL, type RequestsReadModel } from '../../requests/requests-read-model.port.js';
import { TENANT_DIRECTORY, type TenantDirectory } from '../../tenancy/tenant-directory.port.js';
import type { Principal } from '../../tenancy/domain/roles.js';
import { ANSWERS_READ_MODEL, type AnswersReadModel } from '../answers-read-model.port.js';
import { subjectReport, type HistoryItem, type SubjectReport } from '../domain/subject-report.js';
import { AccessRecorder } from './access-recorder.js';

const PAGE = 1000;

/**
 * The Art. 15 report of one subject, as the ledger knew it at `asOf` (default: now). What an authority
 * request under seal covers (the request and the disclosures made under it) stays out until unsealed.
 * The read is recorded in the log (who, which subject, what) before the report is answered.
 */
export class GetSubjectReport extends Query<Either<DomainError, SubjectReport>> {
  constructor(readonly tenant: string, readonly subject: string, readonly asOf: string | undefined, readonly format: 'json' | 'html', readonly request: string | undefined, readonly by: Principal) { super(); }
}

@QueryHandler(GetSubjectReport)
export class GetSubjectReportHandler implements IQueryHandler<GetSubjectReport> {
  constructor(
    @Inject(AUDIT_TRAIL_READ_MODEL) private readonly trail: AuditTrailReadModel,
    @Inject(REQUESTS_READ_MODEL) private readonly requests: RequestsReadModel,
    @Inject(DECLARATIONS_READ_MODEL) private readonly declarations: DeclarationsReadModel,
    @Inject(TENANT_DIRECTORY) private readonly tenants: TenantDirectory,
    @Inject(ANSWERS_READ_MODEL) private readonly answers: AnswersReadModel,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly vault: IdentifierVault,
    private readonly access: AccessRecorder,
  ) {}

  async execute({ tenant, subject, asOf, format, request, by }: GetSubjectReport): Promise<Either<DomainError, SubjectReport>> {
    const generatedAt = formatInstant(this.clock.now());
    const at = sortableInstant(asOf ?? generatedAt);
    const through = asOf ? await this.answers.positionAt(tenant, at) : Number.MAX_SAFE_INTEGER;
    const [authority, subjectRequests, first] = await Promise.all([
      this.requests.authorityRequestsOf(tenant, subject, through),
      this.requests.subjectRequestsOf(tenant, subject, at, through),
      this.trail.page(tenant, { subject, through }, -1, 1),
    ]);
    if (first.length === 0 && subjectRequests.length === 0 && authority.length === 0) return left({ _tag: 'SubjectNotFound', subject });
    // The read is recorded (its commit runs on the storage thread) while the report is put together;
    // nothing is answered unless it was recorded.
    const recording = this.access.record(tenant, by, { what: 'report', subjects: [subject], format, ...(asOf ? { asOf } : {}), ...(request ? { request } : {}) });
    // One turn of the event loop, so that the writer hands the record to the storage thread now: on the
    // embedded store the reads below answer without yielding, and the commit would wait for the whole report.
    await new Promise((r) => setImmediate(r));
    const rows = [];
    for (let after = -1; ;) {
      const page = await this.trail.page(tenant, { subject, through }, after, PAGE);
      rows.push(...page);
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.position;
    }
    // Sealed: the requests naming the subject, and any request a disclosure of the subject refers to.
    const sealed = new Set(authority.filter((r) => r.sealed).map((r) => r.id));
    const refs = new Set(rows.flatMap(({ entry }) => (typeof entry.details?.authorityRequestId === 'string' ? [entry.details.authorityRequestId] : [])));
    for (const r of await this.requests.authorityRequestsById(tenant, [...refs].filter((ref) => !sealed.has(ref)), through)) if (r.sealed) sealed.add(r.id);
    const history: HistoryItem[] = [];
    const keys: KeyMemo = new Map();
    for (const { position, hash, entry } of rows) {
      const ref = entry.details?.authorityRequestId;
      if (typeof ref === 'string' && sealed.has(ref)) continue;
      const ids = entry.subject.identifiers;
      const event = ids?.length ? submittedForm(entry, await this.vault.openAll(tenant, subject, entry.eventId, ids, keys)) : submittedForm(entry);
      history.push({ position, hash, recordedAt: entry.recordedAt, event });
    }
    const settings = (await this.tenants.tenant(tenant))!;
    // Declarations as of the report (or now), read once: the fold looks them up by id.
    const [purposes, systems, recipients] = await Promise.all((['purposes', 'systems', 'recipients'] as const).map((k) => this.declarations.list(tenant, k, asOf)));
    const declared = <B>(list: readonly Declared[]) => {
      const byId = new Map(list.map((d) => [d.id, d.body as B]));
      return (id: string): B | null => byId.get(id) ?? null;
    };
    const report = subjectReport({
      tenant: { id: tenant, name: settings.name, residency: settings.residency }, subject, generatedAt, asOf: asOf ?? null, history,
      purpose: declared<PurposeBody>(purposes!), system: declared<SystemBody>(systems!), recipient: declared<RecipientBody>(recipients!),
      subjectRequests: subjectRequests.map(({ position: _p, ...r }) => r),
      authorityRequests: authority.filter((r) => !r.sealed).map(({ position: _p, ...r }) => r),
    });
    const recorded = await recording;
    return recorded._tag === 'Left' ? recorded : right(report);
  }
}
