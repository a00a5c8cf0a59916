import { Inject, Injectable } from '@nestjs/common';
import type { Either } from 'fp-ts/lib/Either.js';
import { ID_GENERATOR } from '../../common/application/tokens.js';
import { actorOf } from '../../common/kernel/actor.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import type { IdGenerator } from '../../common/kernel/ids.js';
import { LedgerWriter } from '../../ledger/application/ledger-writer.js';
import type { DraftEntry } from '../../ledger/domain/log-entry.js';
import type { Principal } from '../../tenancy/domain/roles.js';
import type { AccessRecord } from '../domain/access.js';

/**
 * Records a read of subject data as an `accessed` entry in the tenant's log, durably, before the data
 * is answered: a read that cannot be recorded is not answered (the caller gets the store's error).
 */
@Injectable()
export class AccessRecorder {
  constructor(private readonly writer: LedgerWriter, @Inject(ID_GENERATOR) private readonly ids: IdGenerator) {}

  /** Concurrent reads share a commit (they decide nothing). */
  record(tenant: string, by: Principal, access: AccessRecord): Promise<Either<DomainError, null>> {
    return this.writer.appendFacts(tenant, [{ type: 'accessed', eventId: this.ids.uuid(), actor: actorOf(by), access } as DraftEntry]);
  }
}
