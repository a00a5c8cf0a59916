import { Inject, Injectable } from '@nestjs/common';
import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { ID_GENERATOR, CLOCK } from '../../common/application/tokens.js';
import { actorOf } from '../../common/kernel/actor.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import type { IdGenerator } from '../../common/kernel/ids.js';
import { encodeCursor, type Page } from '../../common/kernel/paging.js';
import { formatInstant, sortableInstant, type Clock } from '../../common/kernel/time.js';
import { COMPLIANCE_STATE, FLUSH_DEFERRED, type ComplianceStateReader, type FlushDeferred } from '../../compliance/compliance-state.port.js';
import type { SystemErasure } from '../../compliance/domain/erasure.js';
import { DECLARATIONS_READ_MODEL, type DeclarationsReadModel } from '../../declarations/declarations-read-model.port.js';
import type { RecipientBody } from '../../declarations/domain/declaration.js';
import { LedgerWriter } from '../../ledger/application/ledger-writer.js';
import type { DraftEntry } from '../../ledger/domain/log-entry.js';
import type { Principal } from '../../tenancy/domain/roles.js';
import { dueAtOf, extendedDueAt, type AuthorityRequestBody, type SubjectRequestBody, type SubjectRequestStatus } from '../domain/requests.js';
import { REQUESTS_READ_MODEL, type AuthorityRequestView, type RequestsReadModel, type SubjectRequestView } from '../requests-read-model.port.js';

type Answer<A> = Either<DomainError, A>;
const notFound = (kind: 'subject' | 'authority', id: string): DomainError => ({ _tag: 'RequestNotFound', kind, id });
const conflict = (detail: string, systems?: readonly string[]): DomainError => ({ _tag: 'RequestConflict', detail, ...(systems ? { systems } : {}) });
const invalid = (path: string, message: string): DomainError => ({ _tag: 'InvalidInput', errors: [{ path, message }] });
/** A read model row without its paging position. */
function without<T extends object>(v: T): Omit<T, 'position'> {
  const { position: _p, ...rest } = v as T & { position?: number };
  return rest;
}

export type SubjectRequestAnswer = SubjectRequestView & { readonly systems?: readonly SystemErasure[] };

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

/** The subject request workflow (Art. 12(3)): received with a due date, extended once, completed. */
@Injectable()
export class SubjectRequests {
  constructor(
    private readonly writer: LedgerWriter,
    @Inject(REQUESTS_READ_MODEL) private readonly requests: RequestsReadModel,
    @Inject(COMPLIANCE_STATE) private readonly state: ComplianceStateReader,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(FLUSH_DEFERRED) private readonly flush: FlushDeferred,
  ) {}

  private now = () => sortableInstant(this.clock.now());

  private view(tenant: string, id: string, at: string): SubjectRequestAnswer | null {
    const r = this.requests.subjectRequest(tenant, id, at);
    if (!r) return null;
    const v = without(r);
    return r.type === 'erasure' ? { ...v, systems: this.state.erasureStatus(tenant, r.subject.id, at) } : v;
  }

  async execute(c: ReceiveSubjectRequest | ExtendSubjectRequest | CompleteSubjectRequest | GetSubjectRequest | ListSubjectRequests): Promise<unknown> {
    await this.flush(); // erasure status reads the subject's activity
    if (c instanceof GetSubjectRequest) {
      const v = this.view(c.tenant, c.id, c.at);
      return v ? right(v) : left(notFound('subject', c.id));
    }
    if (c instanceof ListSubjectRequests) {
      const rows = this.requests.subjectRequests(c.tenant, c.at, c.status, c.after, c.limit + 1);
      const items = rows.slice(0, c.limit);
      return { items: items.map(without), nextCursor: rows.length > c.limit ? encodeCursor(items[items.length - 1]!.position) : null } satisfies Page<SubjectRequestView>;
    }
    const { tenant, by } = c;
    if (c instanceof ReceiveSubjectRequest) {
      const id = this.ids.uuid();
      return this.writer.append<DomainError, SubjectRequestAnswer>(tenant, async () => {
        const request = { id, type: c.body.type, subject: c.body.subject.id, receivedAt: c.body.receivedAt, dueAt: formatInstant(new Date(dueAtOf(c.body.receivedAt))) };
        const draft = { type: 'subject-request-received', eventId: this.ids.uuid(), actor: actorOf(by), request } as DraftEntry;
        return right({ drafts: [draft], answer: () => this.view(tenant, id, this.now())! });
      });
    }
    return this.writer.append<DomainError, SubjectRequestAnswer>(tenant, async () => {
      const at = this.now();
      const r = this.requests.subjectRequest(tenant, c.id, at);
      if (!r) return left(notFound('subject', c.id));
      if (r.completedAt) return left(conflict(`The request was already completed (${r.outcome}).`));
      if (c instanceof ExtendSubjectRequest) {
        if (r.extended) return left(conflict('The request was already extended once; Art. 12(3) allows one extension.'));
        const request = { id: r.id, reason: c.reason, dueAt: formatInstant(new Date(extendedDueAt(r.receivedAt))) };
        return right({ drafts: [{ type: 'subject-request-extended', eventId: this.ids.uuid(), actor: actorOf(by), request } as DraftEntry], answer: () => this.view(tenant, r.id, this.now())! });
      }
      if (c.outcome === 'rejected' && !c.reason) return left(invalid('reason', 'is required when a request is rejected'));
      if (r.type === 'erasure' && c.outcome === 'fulfilled') {
        const pending = this.state.erasureStatus(tenant, r.subject.id, at).filter((s) => s.status === 'pending').map((s) => s.system);
        if (pending.length) return left(conflict(`These systems still hold the subject's data with no recorded erasure and no legal hold: ${pending.join(', ')}.`, pending));
      }
      const request = { id: r.id, outcome: c.outcome, ...(c.reason ? { reason: c.reason } : {}) };
      return right({ drafts: [{ type: 'subject-request-completed', eventId: this.ids.uuid(), actor: actorOf(by), request } as DraftEntry], answer: () => this.view(tenant, r.id, this.now())! });
    });
  }
}

export class ReceiveAuthorityRequest extends Command<Answer<AuthorityRequestView>> {
  constructor(readonly tenant: string, readonly body: AuthorityRequestBody, readonly by: Principal) { super(); }
}
export class ChangeAuthorityRequest extends Command<Answer<AuthorityRequestView>> {
  constructor(readonly tenant: string, readonly id: string, readonly change: { decide: { decision: 'comply' | 'refuse'; rationale: string } } | 'close' | 'unseal', readonly by: Principal) { super(); }
}
export class GetAuthorityRequest extends Query<Answer<AuthorityRequestView>> {
  constructor(readonly tenant: string, readonly id: string) { super(); }
}
export class ListAuthorityRequests extends Query<Page<AuthorityRequestView>> {
  constructor(readonly tenant: string, readonly after: number, readonly limit: number) { super(); }
}

/** Requests from public authorities: received (from a declared public authority), decided with a rationale, closed, unsealed. */
@Injectable()
export class AuthorityRequests {
  constructor(
    private readonly writer: LedgerWriter,
    @Inject(REQUESTS_READ_MODEL) private readonly requests: RequestsReadModel,
    @Inject(DECLARATIONS_READ_MODEL) private readonly declarations: DeclarationsReadModel,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
  ) {}

  private view(tenant: string, id: string): AuthorityRequestView {
    return without(this.requests.authorityRequest(tenant, id)!);
  }

  async execute(c: ReceiveAuthorityRequest | ChangeAuthorityRequest | GetAuthorityRequest | ListAuthorityRequests): Promise<unknown> {
    if (c instanceof GetAuthorityRequest) {
      const r = this.requests.authorityRequest(c.tenant, c.id);
      return r ? right(without(r)) : left(notFound('authority', c.id));
    }
    if (c instanceof ListAuthorityRequests) {
      const rows = this.requests.authorityRequests(c.tenant, c.after, c.limit + 1);
      const items = rows.slice(0, c.limit);
      return { items: items.map(without), nextCursor: rows.length > c.limit ? encodeCursor(items[items.length - 1]!.position) : null } satisfies Page<AuthorityRequestView>;
    }
    const { tenant, by } = c;
    if (c instanceof ReceiveAuthorityRequest) {
      const id = this.ids.uuid();
      return this.writer.append<DomainError, AuthorityRequestView>(tenant, async () => {
        const authority = this.declarations.current(tenant, 'recipients', c.body.authority);
        if (!authority || (authority.body as RecipientBody).kind !== 'public-authority') return left(invalid('authority', 'must be a declared recipient of kind public-authority'));
        const b = c.body;
        const request = { id, authority: b.authority, reference: b.reference, legalBasis: b.legalBasis, receivedAt: b.receivedAt, subjects: b.subjects.map((s) => s.id), sealed: b.sealed ?? false };
        return right({ drafts: [{ type: 'authority-request-received', eventId: this.ids.uuid(), actor: actorOf(by), request } as DraftEntry], answer: () => this.view(tenant, id) });
      });
    }
    return this.writer.append<DomainError, AuthorityRequestView>(tenant, async () => {
      const r = this.requests.authorityRequest(tenant, c.id);
      if (!r) return left(notFound('authority', c.id));
      const actor = actorOf(by);
      let draft: DraftEntry;
      if (c.change === 'close') {
        if (r.closedAt) return left(conflict('The request is already closed.'));
        draft = { type: 'authority-request-closed', eventId: this.ids.uuid(), actor, request: { id: r.id } } as DraftEntry;
      } else if (c.change === 'unseal') {
        if (!r.sealed) return left(conflict('The request is not sealed.'));
        draft = { type: 'authority-request-unsealed', eventId: this.ids.uuid(), actor, request: { id: r.id } } as DraftEntry;
      } else {
        if (r.decision) return left(conflict(`The request was already decided (${r.decision}).`));
        if (r.closedAt) return left(conflict('The request is closed.'));
        draft = { type: 'authority-request-decided', eventId: this.ids.uuid(), actor, request: { id: r.id, ...c.change.decide } } as DraftEntry;
      }
      return right({ drafts: [draft], answer: () => this.view(tenant, r.id) });
    });
  }
}

@CommandHandler(ReceiveSubjectRequest)
export class ReceiveSubjectRequestHandler implements ICommandHandler<ReceiveSubjectRequest> {
  constructor(private readonly service: SubjectRequests) {}
  execute(c: ReceiveSubjectRequest) { return this.service.execute(c) as Promise<Answer<SubjectRequestAnswer>>; }
}
@CommandHandler(ExtendSubjectRequest)
export class ExtendSubjectRequestHandler implements ICommandHandler<ExtendSubjectRequest> {
  constructor(private readonly service: SubjectRequests) {}
  execute(c: ExtendSubjectRequest) { return this.service.execute(c) as Promise<Answer<SubjectRequestAnswer>>; }
}
@CommandHandler(CompleteSubjectRequest)
export class CompleteSubjectRequestHandler implements ICommandHandler<CompleteSubjectRequest> {
  constructor(private readonly service: SubjectRequests) {}
  execute(c: CompleteSubjectRequest) { return this.service.execute(c) as Promise<Answer<SubjectRequestAnswer>>; }
}
@QueryHandler(GetSubjectRequest)
export class GetSubjectRequestHandler implements IQueryHandler<GetSubjectRequest> {
  constructor(private readonly service: SubjectRequests) {}
  execute(q: GetSubjectRequest) { return this.service.execute(q) as Promise<Answer<SubjectRequestAnswer>>; }
}
@QueryHandler(ListSubjectRequests)
export class ListSubjectRequestsHandler implements IQueryHandler<ListSubjectRequests> {
  constructor(private readonly service: SubjectRequests) {}
  execute(q: ListSubjectRequests) { return this.service.execute(q) as Promise<Page<SubjectRequestView>>; }
}
@CommandHandler(ReceiveAuthorityRequest)
export class ReceiveAuthorityRequestHandler implements ICommandHandler<ReceiveAuthorityRequest> {
  constructor(private readonly service: AuthorityRequests) {}
  execute(c: ReceiveAuthorityRequest) { return this.service.execute(c) as Promise<Answer<AuthorityRequestView>>; }
}
@CommandHandler(ChangeAuthorityRequest)
export class ChangeAuthorityRequestHandler implements ICommandHandler<ChangeAuthorityRequest> {
  constructor(private readonly service: AuthorityRequests) {}
  execute(c: ChangeAuthorityRequest) { return this.service.execute(c) as Promise<Answer<AuthorityRequestView>>; }
}
@QueryHandler(GetAuthorityRequest)
export class GetAuthorityRequestHandler implements IQueryHandler<GetAuthorityRequest> {
  constructor(private readonly service: AuthorityRequests) {}
  execute(q: GetAuthorityRequest) { return this.service.execute(q) as Promise<Answer<AuthorityRequestView>>; }
}
@QueryHandler(ListAuthorityRequests)
export class ListAuthorityRequestsHandler implements IQueryHandler<ListAuthorityRequests> {
  constructor(private readonly service: AuthorityRequests) {}
  execute(q: ListAuthorityRequests) { return this.service.execute(q) as Promise<Page<AuthorityRequestView>>; }
}

export const REQUEST_PROVIDERS = [
  SubjectRequests, AuthorityRequests, ReceiveSubjectRequestHandler, ExtendSubjectRequestHandler, CompleteSubjectRequestHandler, GetSubjectRequestHandler,
  ListSubjectRequestsHandler, ReceiveAuthorityRequestHandler, ChangeAuthorityRequestHandler, GetAuthorityRequestHandler, ListAuthorityRequestsHandler,
];
