import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { right, type Either } from 'fp-ts/lib/Either.js';
import { LedgerWriter } from '../../ledger/application/ledger-writer.js';
import { canonicalBytes } from '../../ledger/domain/canonical.js';
import type { DraftEntry } from '../../ledger/domain/log-entry.js';
import { actorOf } from '../../common/kernel/actor.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import type { IdGenerator } from '../../common/kernel/ids.js';
import { ID_GENERATOR } from '../../common/application/tokens.js';
import type { Principal } from '../../tenancy/domain/roles.js';
import { DECLARATIONS_READ_MODEL, type DeclarationsReadModel } from '../declarations-read-model.port.js';
import { DECLARATION_KINDS, type DeclarationBody, type DeclarationKind } from '../domain/declaration.js';

export interface DeclareAnswer { readonly created: boolean; readonly changed: boolean; readonly id: string; readonly version: number; readonly body: DeclarationBody }

/** Records a new version of a purpose, system or recipient; re-declaring the same body records nothing. */
export class Declare extends Command<Either<DomainError, DeclareAnswer>> {
  constructor(readonly tenant: string, readonly kind: DeclarationKind, readonly id: string, readonly body: DeclarationBody, readonly by: Principal) { super(); }
}

@CommandHandler(Declare)
export class DeclareHandler implements ICommandHandler<Declare> {
  constructor(
    private readonly writer: LedgerWriter,
    @Inject(DECLARATIONS_READ_MODEL) private readonly declarations: DeclarationsReadModel,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
  ) {}

  execute({ tenant, kind, id, body, by }: Declare) {
    return this.writer.append<DomainError, DeclareAnswer>(tenant, async () => {
      const current = await this.declarations.current(tenant, kind, id);
      if (current && canonicalBytes(current.body).equals(canonicalBytes(body))) {
        return right({ drafts: [], answer: () => ({ created: false, changed: false, id, version: current.version, body: current.body }) });
      }
      const version = (current?.version ?? 0) + 1;
      const draft = { type: DECLARATION_KINDS[kind].entryType, eventId: this.ids.uuid(), actor: actorOf(by), declaration: { id, version, body } } as DraftEntry;
      return right({ drafts: [draft], answer: () => ({ created: current === null, changed: true, id, version, body }) });
    });
  }
}
