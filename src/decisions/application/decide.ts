import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { CLOCK, ID_GENERATOR } from '../../common/application/tokens.js';
import { actorOf } from '../../common/kernel/actor.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import type { IdGenerator } from '../../common/kernel/ids.js';
import { formatInstant, type Clock } from '../../common/kernel/time.js';
import { DECISION_JUDGE, FLUSH_DEFERRED, type DecisionJudge, type FlushDeferred } from '../../compliance/compliance-state.port.js';
import type { Finding } from '../../compliance/domain/finding.js';
import type { Fact } from '../../compliance/domain/rules.js';
import { systemsOutsideToken } from '../../ingestion/domain/system-restriction.js';
import { LedgerWriter } from '../../ledger/application/ledger-writer.js';
import type { DraftEntry } from '../../ledger/domain/log-entry.js';
import type { Principal } from '../../tenancy/domain/roles.js';
import type { DecisionBody } from '../domain/decision.js';

export interface DecisionAnswer { readonly allowed: boolean; readonly findings: readonly Finding[] }

/**
 * The decision point: judges a proposed action as if it were recorded now (against the declarations in
 * force and the subject's state), without recording it as processing; records the decision itself.
 */
export class Decide extends Command<Either<DomainError, DecisionAnswer>> {
  constructor(readonly tenant: string, readonly body: DecisionBody, readonly by: Principal) { super(); }
}

@CommandHandler(Decide)
export class DecideHandler implements ICommandHandler<Decide> {
  constructor(
    private readonly writer: LedgerWriter,
    @Inject(DECISION_JUDGE) private readonly judge: DecisionJudge,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(FLUSH_DEFERRED) private readonly flush: FlushDeferred,
  ) {}

  execute({ tenant, body, by }: Decide) {
    const at = body.at ?? formatInstant(this.clock.now());
    const outside = systemsOutsideToken(by, [{ system: body.system } as never]);
    if (outside.length) return Promise.resolve(left<DomainError, DecisionAnswer>({ _tag: 'SystemNotAllowed', systems: outside }));
    return this.writer.append<DomainError, DecisionAnswer>(tenant, async () => {
      // Only an erasure's legal minimum counted from the last activity reads what the store defers.
      if (body.type === 'erased') await this.flush();
      const details = { ...(body.recipient ? { recipient: body.recipient } : {}), ...(body.authorityRequestId ? { authorityRequestId: body.authorityRequestId } : {}) };
      const fact: Fact = { type: body.type, subject: body.subject.id, categories: body.categories, purpose: body.purpose, system: body.system, occurredAt: at, details };
      const findings = await this.judge.judge(tenant, fact);
      const decision = {
        subject: body.subject.id, type: body.type, purpose: body.purpose, categories: body.categories, system: body.system, at,
        allowed: findings.length === 0, findings: findings.map((f) => f.code),
        ...(body.recipient ? { recipient: body.recipient } : {}), ...(body.authorityRequestId ? { authorityRequestId: body.authorityRequestId } : {}),
      };
      const draft = { type: 'decision-made', eventId: this.ids.uuid(), actor: actorOf(by), decision } as DraftEntry;
      return right({ drafts: [draft], answer: () => ({ allowed: findings.length === 0, findings }) });
    });
  }
}
