import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { CLOCK } from '../../common/application/tokens.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import { formatInstant, sortableInstant, type Clock } from '../../common/kernel/time.js';
import { COMPLIANCE_STATE, FLUSH_DEFERRED, type ComplianceStateReader, type FlushDeferred } from '../../compliance/compliance-state.port.js';
import type { SystemErasure } from '../../compliance/domain/erasure.js';
import { REQUESTS_READ_MODEL, type RequestsReadModel } from '../../requests/requests-read-model.port.js';
import { KEY_STORE } from '../../storage/storage.tokens.js';
import type { KeyStore } from '../key-store.port.js';

export interface ErasureCertificate {
  readonly subject: { readonly id: string };
  readonly generatedAt: string;
  /** What the ledger itself forgot: each key destroyed, when, why, and the log entry that says so. */
  readonly destroyed: ReadonlyArray<{ category: string; destroyedAt: string; reason: string; request: string | null; eventId: string; position: number }>;
  /** What it still keeps lawfully: keys under a legal hold, until when, on which basis. */
  readonly held: ReadonlyArray<{ category: string; until: string; purpose: string; legalBasis: string }>;
  /** Keys still in use (no erasure asks for them yet). */
  readonly live: readonly string[];
  /** Where the subject's data stands in each system that held it. */
  readonly systems: readonly SystemErasure[];
}

/** `GET …/subjects/{id}/erasure`: proof of what was erased where, and of what is still held and why (Art. 17, 5(2)). */
export class GetErasureCertificate extends Query<Either<DomainError, ErasureCertificate>> {
  constructor(readonly tenant: string, readonly subject: string) { super(); }
}

@QueryHandler(GetErasureCertificate)
export class GetErasureCertificateHandler implements IQueryHandler<GetErasureCertificate> {
  constructor(
    @Inject(KEY_STORE) private readonly keys: KeyStore,
    @Inject(REQUESTS_READ_MODEL) private readonly requests: RequestsReadModel,
    @Inject(COMPLIANCE_STATE) private readonly state: ComplianceStateReader,
    @Inject(FLUSH_DEFERRED) private readonly flush: FlushDeferred,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ tenant, subject }: GetErasureCertificate): Promise<Either<DomainError, ErasureCertificate>> {
    await this.flush();
    const now = this.clock.now();
    const destroyed = await this.requests.destroyedKeys(tenant, subject);
    const holds = (await this.keys.holds(tenant)).filter((h) => h.subject === subject);
    const live = (await this.keys.liveKeys(tenant, subject)).map((k) => k.category);
    const systems = await this.state.erasureStatus(tenant, subject, sortableInstant(now));
    if (!destroyed.length && !live.length && !systems.length) return left({ _tag: 'SubjectNotFound', subject });
    const heldCategories = new Set(holds.map((h) => h.category));
    return right({
      subject: { id: subject },
      generatedAt: formatInstant(now),
      destroyed: destroyed.map((d) => ({ category: d.category, destroyedAt: d.recordedAt, reason: d.reason, request: d.request, eventId: d.eventId, position: d.position })),
      held: holds.map((h) => ({ category: h.category, until: formatInstant(new Date(h.until)), purpose: h.purpose, legalBasis: h.legalBasis })),
      live: live.filter((c) => !heldCategories.has(c)),
      systems,
    });
  }
}
