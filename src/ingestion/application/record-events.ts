import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Logger } from 'pino';
import { Shredder } from '../../keys/application/shredder.js';
import { LOGGER } from '../../operability/logger.js';
import { left, type Either } from 'fp-ts/lib/Either.js';
import { LedgerWriter } from '../../ledger/application/ledger-writer.js';
import type { ProcessingEvent } from '../../ledger/domain/processing-event.js';
import type { RecordResult } from '../../ledger/domain/record-outcome.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import type { Principal } from '../../tenancy/domain/roles.js';
import { systemsOutsideToken } from '../domain/system-restriction.js';
import { LedgerMetrics } from '../../operability/metrics.js';

/** Records a batch of processing events, atomically and durably. */
export class RecordEvents extends Command<Either<DomainError, RecordResult[]>> {
  constructor(readonly tenant: string, readonly events: readonly ProcessingEvent[], readonly by: Principal) { super(); }
}

/**
 * Records a batch; once an erasure is recorded, the ledger forgets what the law lets it forget of that
 * subject (crypto-shredding) before it answers, so no later answer shows the value.
 */
@CommandHandler(RecordEvents)
export class RecordEventsHandler implements ICommandHandler<RecordEvents> {
  constructor(private readonly writer: LedgerWriter, private readonly shredder: Shredder, @Inject(LOGGER) private readonly log: Logger, private readonly metrics: LedgerMetrics) {}

  async execute({ tenant, events, by }: RecordEvents): Promise<Either<DomainError, RecordResult[]>> {
    const outside = systemsOutsideToken(by, events);
    if (outside.length) return left({ _tag: 'SystemNotAllowed', systems: outside });
    const recorded = await this.writer.record(tenant, events);
    if (recorded._tag === 'Right') {
      // Counted once, when recorded (a duplicate repeats its first copy's findings).
      for (const r of recorded.right) if (r.status === 'recorded' && r.findings.length) this.metrics.raised(r.findings);
      const erasedNow = new Set(recorded.right.map((r, i) => (r.status === 'recorded' && events[i]!.type === 'erased' ? events[i]!.subject.id : null)).filter((s): s is string => s !== null));
      if (erasedNow.size) {
        const shred = await this.shredder.forgetAll(tenant, [...erasedNow]);
        // The erasure is recorded either way; a key that could not be destroyed now goes at the subject's
        // next erasure.
        if (shred._tag === 'Left') this.log.error({ tenant, problem: shred.left._tag }, 'erasure: could not destroy keys after an erasure');
      }
    }
    return recorded;
  }
}
