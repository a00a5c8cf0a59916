import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { left, type Either } from 'fp-ts/lib/Either.js';
import { LedgerWriter } from '../../ledger/application/ledger-writer.js';
import type { ProcessingEvent } from '../../ledger/domain/processing-event.js';
import type { RecordResult } from '../../ledger/domain/record-outcome.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import type { Principal } from '../../tenancy/domain/roles.js';
import { systemsOutsideToken } from '../domain/system-restriction.js';

/** Records a batch of processing events, atomically and durably. */
export class RecordEvents extends Command<Either<DomainError, RecordResult[]>> {
  constructor(readonly tenant: string, readonly events: readonly ProcessingEvent[], readonly by: Principal) { super(); }
}

@CommandHandler(RecordEvents)
export class RecordEventsHandler implements ICommandHandler<RecordEvents> {
  constructor(private readonly writer: LedgerWriter) {}

  async execute({ tenant, events, by }: RecordEvents): Promise<Either<DomainError, RecordResult[]>> {
    const outside = systemsOutsideToken(by, events);
    if (outside.length) return left({ _tag: 'SystemNotAllowed', systems: outside });
    return this.writer.record(tenant, events);
  }
}
