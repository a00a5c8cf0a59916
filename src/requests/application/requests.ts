import { Inject, Injectable } from '@nestjs/common';
import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { ID_GENERATOR, CLOCK } from '../../common/application/tokens.js';
import { actorOf } from '../../common/kernel/actor.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import type { IdGenerator } from '../../common/kernel/ids.js';
import { pageOf, type Page } from '../../common/kernel/paging.js';
import { formatInstant, sortableInstant, type Clock } from '../../common/kernel/time.js';
import { COMPLIANCE_STATE, FLUSH_DEFERRED, type ComplianceStateReader, type FlushDeferred } from '../../compliance/compliance-state.port.js';
import type { SystemErasure } from '../../compliance/domain/erasure.js';
import { DECLARATIONS_READ_MODEL, type DeclarationsReadModel } from '../../declarations/declarations-read-model.port.js';
import type { RecipientBody } from '../../declarations/domain/declaration.js';
import { LedgerWriter } from '../../ledger/application/ledger-writer.js';
import type { DraftEntry } from '../../ledger/domain/log-entry.js';
import type { Principal } from '../../tenancy/domain/roles.js';
import { AUDIT_TRAIL_READ_MODEL, type AuditTrailReadModel } from '../../audit-trail/audit-trail-read-model.port.js';
import { disclosureItem } from '../../answers/application/answers.js';
import { Shredder } from '../../keys/application/shredder.js';
import { dueAtOf, extendedDueAt, type AuthorityRequestBody, type SubjectRequestBody, type SubjectRequestStatus } from '../domain/requests.js';
import { REQUESTS_READ_MODEL, type AuthorityRequestView, type RequestsReadModel, type SubjectRequestView } from '../requests-read-model.port.js';

type Answer<A> = Either<DomainError, A>;
const notFound = (kind: 'subject' | 'authority', id: string): DomainError => ({ _tag: 'RequestNotFound', kind, id });
const conflict = (detail: string, systems?: readonly string[]): DomainError => ({ _tag: 'RequestConflict', detail, ...(systems ? { systems } : {}) });
const invalid = (path: string, message: string): DomainError => ({ _tag: 'InvalidInput', errors: [{ path, message }] });

/** How far past the ledger's clock a request may say it was received: clocks and time zones apart, by a day. */
const RECEIVED_GRACE_MS = 86_400_000;

/**
 * A request received later than now is a mistyped date: recorded, it would stay out of every list and
 * report answered `at` now until that day comes (and a year typed wrong, for years).
 */
function receivedLater(receivedAt: string, now: Date): DomainError | null {
  return Date.parse(receivedAt) > now.getTime() + RECEIVED_GRACE_MS ? invalid('receivedAt', `must not be later than now (the ledger's clock reads ${formatInstant(now)})`) : null;
}

/** A read model row without its paging position. */
function without<T extends object>(v: T): Omit<T, 'position'> {
  const { position: _p, ...rest } = v as T & { position?: number };
  return rest;
}

/** For an erasure: where the data stands per system, and whom to tell (Art. 19). */
export type SubjectRequestAnswer = SubjectRequestView & {
  readonly systems?: readonly SystemErasure[];
  readonly notify?: ReadonlyArray<{ readonly recipient: string; readonly kind: string | null; readonly categories: readonly string[] }>;
};

export class ReceiveSubjectRequest extends Command<Answer<SubjectRequestAnswer>> {
  constructor(readonly tenant: string, readonly body: SubjectRequestBody, readonly by: Principal) { super(); }
}
export class ExtendSubjectRequest extends Command<Answer<SubjectRequestAnswer>> {
  constructor(readonly tenant: string, readonly id: string, readonly reason: string, readonly by: Principal) { super(); }
}
export class CompleteSubjectRequest extends Command<Answer<SubjectRequestAnswer>> {
  constructor(readonly tenant: string, readonly id: string, readonly outcome: 'fulfilled' | 'rejected', readonly reason: string | undefined, readonly by: Principal) { super(); }
}
export class GetSubjectRequest extends Query<Answer<SubjectRequestAnswer>> {
  constructor(readonly tenant: string, readonly id: string, readonly at: string) { super(); }
}
export class ListSubjectRequests extends Query<Page<SubjectRequestView>> {
  constructor(readonly tenant: string, readonly at: string, readonly status: SubjectRequestStatus | undefined, readonly after: number, readonly limit: number) { super(); }
}

/** Records the one entry `decide` answers (decided against the read models, one request at a time), then answers with `view()`. */
async function recordThen<V>(writer: LedgerWriter, tenant: string, decide: () => Promise<Either<DomainError, DraftEntry>>, view: () => Promise<V>): Promise<Answer<V>> {
  const done = await writer.append<DomainError, null>(tenant, async () => {
    const draft = await decide();
    return draft._tag === 'Left' ? draft : right({ drafts: [draft.right], answer: () => null });
  });
  return done._tag === 'Left' ? done : right(await view());
}

/** Every disclosure (or transfer to a recipient) of the subject's data, in log order, a page of the trail at a time. */
async function* disclosuresOf(trail: AuditTrailReadModel, tenant: string, subject: string) {
  for (let after = -1; ;) {
    const rows = await trail.page(tenant, { subject, disclosures: true }, after, 1000);
    for (const { entry } of rows) yield entry;
    if (rows.length < 1000) return;
    after = rows[rows.length - 1]!.position;
  }
}

/** What the subject request handlers share: their ports, and the view of one request. */
@Injectable()
abstract class SubjectRequestHandler {
  constructor(
    protected readonly writer: LedgerWriter,
    @Inject(REQUESTS_READ_MODEL) protected readonly requests: RequestsReadModel,
    @Inject(COMPLIANCE_STATE) protected readonly state: ComplianceStateReader,
    @Inject(ID_GENERATOR) protected readonly ids: IdGenerator,
    @Inject(CLOCK) protected readonly clock: Clock,
    @Inject(FLUSH_DEFERRED) private readonly flush: FlushDeferred,
    @Inject(AUDIT_TRAIL_READ_MODEL) private readonly trail: AuditTrailReadModel,
    @Inject(DECLARATIONS_READ_MODEL) private readonly declarations: DeclarationsReadModel,
    protected readonly shredder: Shredder,
  ) {}

  protected now = () => sortableInstant(this.clock.now());

  /**
   * Art. 19: everyone the subject's data was disclosed to, with the categories the erasure covers (what
   * a legal hold keeps is not erased, so not notified).
   */
  private async recipientsToNotify(tenant: string, subject: string, systems: readonly SystemErasure[]) {
    const kept = new Set(systems.flatMap((s) => (s.status === 'held' ? s.categories : [])));
    const sent = new Map<string, Set<string>>();
    for await (const entry of disclosuresOf(this.trail, tenant, subject)) {
      const to = String(entry.details?.recipient);
      for (const c of entry.categories) if (!kept.has(c)) sent.set(to, (sent.get(to) ?? new Set()).add(c));
    }
    const kinds = new Map((await this.declarations.list(tenant, 'recipients')).map((d) => [d.id, (d.body as RecipientBody).kind]));
    return [...sent].sort(([a], [b]) => (a < b ? -1 : 1)).map(([recipient, categories]) => ({ recipient, kind: kinds.get(recipient) ?? null, categories: [...categories].sort() }));
  }

  /** A request as answered; for an erasure, where the data stands per system (which reads what the store defers). */
  protected async view(tenant: string, id: string, at: string): Promise<SubjectRequestAnswer | null> {
    const r = await this.requests.subjectRequest(tenant, id, at);
    if (!r || r.type !== 'erasure') return r && without(r);
    await this.flush();
    const systems = await this.state.erasureStatus(tenant, r.subject.id, at);
    return { ...without(r), systems, notify: await this.recipientsToNotify(tenant, r.subject.id, systems) };
  }

  /** Records what `decide` answers for the request `id`, then answers with the request as it now stands. */
  protected record(tenant: string, id: string, decide: () => Promise<Either<DomainError, DraftEntry>>): Promise<Answer<SubjectRequestAnswer>> {
    return recordThen(this.writer, tenant, decide, async () => (await this.view(tenant, id, this.now()))!);
  }
}

/** Records a subject request (Art. 12(3)): due one calendar month after receipt. */
@CommandHandler(ReceiveSubjectRequest)
export class ReceiveSubjectRequestHandler extends SubjectRequestHandler implements ICommandHandler<ReceiveSubjectRequest> {
  async execute({ tenant, body, by }: ReceiveSubjectRequest) {
    const later = receivedLater(body.receivedAt, this.clock.now());
    if (later) return left(later);
    const id = this.ids.uuid();
    const request = { id, type: body.type, subject: body.subject.id, receivedAt: body.receivedAt, dueAt: formatInstant(new Date(dueAtOf(body.receivedAt))) };
    return this.record(tenant, id, async () => right({ type: 'subject-request-received', eventId: this.ids.uuid(), actor: actorOf(by), request } as DraftEntry));
  }
}

/** Extends an open subject request by two months, once. */
@CommandHandler(ExtendSubjectRequest)
export class ExtendSubjectRequestHandler extends SubjectRequestHandler implements ICommandHandler<ExtendSubjectRequest> {
  execute({ tenant, id, reason, by }: ExtendSubjectRequest) {
    return this.record(tenant, id, async () => {
      const r = await this.requests.subjectRequest(tenant, id, this.now());
      if (!r) return left(notFound('subject', id));
      if (r.completedAt) return left(conflict(`The request was already completed (${r.outcome}).`));
      if (r.extended) return left(conflict('The request was already extended once; Art. 12(3) allows one extension.'));
      const request = { id: r.id, reason, dueAt: formatInstant(new Date(extendedDueAt(r.receivedAt))) };
      return right({ type: 'subject-request-extended', eventId: this.ids.uuid(), actor: actorOf(by), request } as DraftEntry);
    });
  }
}

/** Completes a subject request; an erasure only once no system still holds the data without a legal hold. */
@CommandHandler(CompleteSubjectRequest)
export class CompleteSubjectRequestHandler extends SubjectRequestHandler implements ICommandHandler<CompleteSubjectRequest> {
  async execute({ tenant, id, outcome, reason, by }: CompleteSubjectRequest) {
    const done = await this.record(tenant, id, async () => {
      const at = this.now();
      const r = await this.view(tenant, id, at);
      if (!r) return left(notFound('subject', id));
      if (r.completedAt) return left(conflict(`The request was already completed (${r.outcome}).`));
      if (outcome === 'rejected' && !reason) return left(invalid('reason', 'is required when a request is rejected'));
      const pending = outcome === 'fulfilled' ? (r.systems ?? []).filter((s) => s.status === 'pending').map((s) => s.system) : [];
      if (pending.length) return left(conflict(`These systems still hold the subject's data with no recorded erasure and no legal hold: ${pending.join(', ')}.`, pending));
      const request = { id: r.id, outcome, ...(reason ? { reason } : {}) };
      return right({ type: 'subject-request-completed', eventId: this.ids.uuid(), actor: actorOf(by), request } as DraftEntry);
    });
    // A fulfilled erasure: the ledger forgets the subject too, as far as no legal hold keeps a key.
    if (done._tag === 'Left' || done.right.type !== 'erasure' || done.right.outcome !== 'fulfilled') return done;
    const shred = await this.shredder.forget(tenant, done.right.subject.id, this.now(), id);
    return shred._tag === 'Left' ? shred : right((await this.view(tenant, id, this.now()))!);
  }
}

@QueryHandler(GetSubjectRequest)
export class GetSubjectRequestHandler extends SubjectRequestHandler implements IQueryHandler<GetSubjectRequest> {
  async execute({ tenant, id, at }: GetSubjectRequest): Promise<Answer<SubjectRequestAnswer>> {
    const v = await this.view(tenant, id, at);
    return v ? right(v) : left(notFound('subject', id));
  }
}

@QueryHandler(ListSubjectRequests)
export class ListSubjectRequestsHandler extends SubjectRequestHandler implements IQueryHandler<ListSubjectRequests> {
  async execute({ tenant, at, status, after, limit }: ListSubjectRequests): Promise<Page<SubjectRequestView>> {
    return pageOf(await this.requests.subjectRequests(tenant, at, status, after, limit + 1), limit, (r) => r.position, without);
  }
}

export class ReceiveAuthorityRequest extends Command<Answer<AuthorityRequestView>> {
  constructor(readonly tenant: string, readonly body: AuthorityRequestBody, readonly by: Principal) { super(); }
}
export class ChangeAuthorityRequest extends Command<Answer<AuthorityRequestView>> {
  constructor(readonly tenant: string, readonly id: string, readonly change: { decide: { decision: 'comply' | 'refuse'; rationale: string } } | 'close' | 'unseal', readonly by: Principal) { super(); }
}
/** What an authority request covers of one subject it names (see `GetAuthorityRequestHandler.covers`). */
export interface SubjectCoverage {
  readonly subject: { readonly id: string };
  readonly held: ReadonlyArray<{ system: string; country: string | null; categories: readonly string[]; legalHold?: { purpose: string; legalBasis: string; until: string } }>;
  readonly erasedFrom: readonly string[];
  readonly disclosedToAuthorities: ReadonlyArray<{ recipient: string; authorityRequest: string | null; occurredAt: string; categories: readonly string[] }>;
}
export class GetAuthorityRequest extends Query<Answer<AuthorityRequestView & { disclosures: Array<Record<string, unknown>>; covers: SubjectCoverage[] }>> {
  constructor(readonly tenant: string, readonly id: string) { super(); }
}
export class ListAuthorityRequests extends Query<Page<AuthorityRequestView>> {
  constructor(readonly tenant: string, readonly after: number, readonly limit: number) { super(); }
}

/** What the authority request handlers share: their ports, and the view of one request. */
@Injectable()
abstract class AuthorityRequestHandler {
  constructor(
    protected readonly writer: LedgerWriter,
    @Inject(REQUESTS_READ_MODEL) protected readonly requests: RequestsReadModel,
    @Inject(DECLARATIONS_READ_MODEL) protected readonly declarations: DeclarationsReadModel,
    @Inject(ID_GENERATOR) protected readonly ids: IdGenerator,
    @Inject(AUDIT_TRAIL_READ_MODEL) protected readonly trail: AuditTrailReadModel,
    @Inject(COMPLIANCE_STATE) protected readonly state: ComplianceStateReader,
    @Inject(CLOCK) protected readonly clock: Clock,
    @Inject(FLUSH_DEFERRED) protected readonly flush: FlushDeferred,
  ) {}

  /** Records what `decide` answers, then answers with the request `id` as it now stands. */
  protected record(tenant: string, id: string, decide: () => Promise<Either<DomainError, DraftEntry>>): Promise<Answer<AuthorityRequestView>> {
    return recordThen(this.writer, tenant, decide, async () => without((await this.requests.authorityRequest(tenant, id))!));
  }
}

/** Records a request from a declared public authority. */
@CommandHandler(ReceiveAuthorityRequest)
export class ReceiveAuthorityRequestHandler extends AuthorityRequestHandler implements ICommandHandler<ReceiveAuthorityRequest> {
  async execute({ tenant, body: b, by }: ReceiveAuthorityRequest) {
    const later = receivedLater(b.receivedAt, this.clock.now());
    if (later) return left(later);
    const id = this.ids.uuid();
    return this.record(tenant, id, async () => {
      const authority = await this.declarations.current(tenant, 'recipients', b.authority);
      if (!authority || (authority.body as RecipientBody).kind !== 'public-authority') return left(invalid('authority', 'must be a declared recipient of kind public-authority'));
      const request = { id, authority: b.authority, reference: b.reference, legalBasis: b.legalBasis, receivedAt: b.receivedAt, subjects: b.subjects.map((s) => s.id), sealed: b.sealed ?? false };
      return right({ type: 'authority-request-received', eventId: this.ids.uuid(), actor: actorOf(by), request } as DraftEntry);
    });
  }
}

/** Decides (comply or refuse, with a rationale), closes or unseals an authority request. */
@CommandHandler(ChangeAuthorityRequest)
export class ChangeAuthorityRequestHandler extends AuthorityRequestHandler implements ICommandHandler<ChangeAuthorityRequest> {
  execute({ tenant, id, change, by }: ChangeAuthorityRequest) {
    return this.record(tenant, id, async () => {
      const r = await this.requests.authorityRequest(tenant, id);
      if (!r) return left(notFound('authority', id));
      const actor = actorOf(by);
      let draft: DraftEntry;
      if (change === 'close') {
        if (r.closedAt) return left(conflict('The request is already closed.'));
        draft = { type: 'authority-request-closed', eventId: this.ids.uuid(), actor, request: { id: r.id } } as DraftEntry;
      } else if (change === 'unseal') {
        if (!r.sealed) return left(conflict('The request is not sealed.'));
        draft = { type: 'authority-request-unsealed', eventId: this.ids.uuid(), actor, request: { id: r.id } } as DraftEntry;
      } else {
        if (r.decision) return left(conflict(`The request was already decided (${r.decision}).`));
        if (r.closedAt) return left(conflict('The request is closed.'));
        draft = { type: 'authority-request-decided', eventId: this.ids.uuid(), actor, request: { id: r.id, ...change.decide } } as DraftEntry;
      }
      return right(draft);
    });
  }
}

@QueryHandler(GetAuthorityRequest)
export class GetAuthorityRequestHandler extends AuthorityRequestHandler implements IQueryHandler<GetAuthorityRequest> {
  /** The request with the disclosures made under it (events naming it in `details.authorityRequestId`). */
  async execute({ tenant, id }: GetAuthorityRequest) {
    const r = await this.requests.authorityRequest(tenant, id);
    if (!r) return left(notFound('authority', id));
    const recipients = new Map((await this.declarations.list(tenant, 'recipients')).map((d) => [d.id, d.body as RecipientBody]));
    const recipient = (rid: string) => recipients.get(rid) ?? null;
    const disclosures = (await this.trail.at(tenant, await this.requests.disclosuresUnder(tenant, id))).map((row) => {
      const { authorityRequest: _self, ...item } = disclosureItem(row, recipient, () => null);
      return item;
    });
    return right({ ...without(r), disclosures, covers: await this.covers(tenant, r, recipient) });
  }

  /**
   * What the request covers, for legal to decide on it: per subject named, where the subject's data is
   * held now (system, country, categories, and the legal hold that keeps it, if one does), the systems it
   * was erased from, and what was disclosed of it to public authorities under other requests.
   */
  private async covers(tenant: string, r: AuthorityRequestView, recipient: (id: string) => RecipientBody | null): Promise<SubjectCoverage[]> {
    await this.flush();
    const at = sortableInstant(this.clock.now());
    const countries = new Map((await this.declarations.list(tenant, 'systems')).map((d) => [d.id, (d.body as { country: string }).country]));
    return Promise.all(r.subjects.map(async ({ id: subject }) => {
      const systems = await this.state.erasureStatus(tenant, subject, at);
      const held = systems.flatMap((s) => (s.status === 'erased' ? [] : [{
        system: s.system, country: countries.get(s.system) ?? null, categories: s.categories,
        ...(s.status === 'held' ? { legalHold: { purpose: s.purpose, legalBasis: s.legalBasis, until: s.until } } : {}),
      }]));
      const disclosed: Array<SubjectCoverage['disclosedToAuthorities'][number]> = [];
      for await (const entry of disclosuresOf(this.trail, tenant, subject)) {
        const to = String(entry.details?.recipient);
        const under = typeof entry.details?.authorityRequestId === 'string' ? entry.details.authorityRequestId : null;
        if (recipient(to)?.kind === 'public-authority' && under !== r.id) disclosed.push({ recipient: to, authorityRequest: under, occurredAt: entry.occurredAt, categories: entry.categories });
      }
      return { subject: { id: subject }, held, erasedFrom: systems.filter((s) => s.status === 'erased').map((s) => s.system), disclosedToAuthorities: disclosed };
    }));
  }
}

@QueryHandler(ListAuthorityRequests)
export class ListAuthorityRequestsHandler extends AuthorityRequestHandler implements IQueryHandler<ListAuthorityRequests> {
  async execute({ tenant, after, limit }: ListAuthorityRequests): Promise<Page<AuthorityRequestView>> {
    return pageOf(await this.requests.authorityRequests(tenant, after, limit + 1), limit, (r) => r.position, without);
  }
}

export const REQUEST_PROVIDERS = [
  ReceiveSubjectRequestHandler, ExtendSubjectRequestHandler, CompleteSubjectRequestHandler, GetSubjectRequestHandler, ListSubjectRequestsHandler,
  ReceiveAuthorityRequestHandler, ChangeAuthorityRequestHandler, GetAuthorityRequestHandler, ListAuthorityRequestsHandler,
];
