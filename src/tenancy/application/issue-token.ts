import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { LedgerWriter } from '../../ledger/application/ledger-writer.js';
import { actorOf } from '../../common/kernel/actor.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import type { IdGenerator } from '../../common/kernel/ids.js';
import { ID_GENERATOR } from '../../common/application/tokens.js';
import type { Principal, TokenRequest } from '../domain/roles.js';
import { newTokenSecret, tokenHash } from '../domain/token-secret.js';
import { TENANT_DIRECTORY, type TenantDirectory } from '../tenant-directory.port.js';

export interface IssuedToken { readonly id: string; readonly token: string; readonly role: string; readonly systems?: readonly string[]; readonly label?: string }

export class IssueToken extends Command<Either<DomainError, IssuedToken>> {
  constructor(readonly tenant: string, readonly request: TokenRequest, readonly by: Principal) { super(); }
}

@CommandHandler(IssueToken)
export class IssueTokenHandler implements ICommandHandler<IssueToken> {
  constructor(
    private readonly writer: LedgerWriter,
    @Inject(TENANT_DIRECTORY) private readonly directory: TenantDirectory,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
  ) {}

  execute({ tenant, request, by }: IssueToken) {
    const secret = newTokenSecret();
    const id = this.ids.uuid();
    const token = { id, role: request.role, hash: tokenHash(secret), ...(request.systems ? { systems: request.systems } : {}), ...(request.label ? { label: request.label } : {}) };
    return this.writer.append<DomainError, IssuedToken>(tenant, async () => {
      if (!this.directory.tenant(tenant)) return left({ _tag: 'UnknownTenant', tenant });
      return right({
        drafts: [{ type: 'token-issued', eventId: this.ids.uuid(), actor: actorOf(by), token }],
        answer: () => ({ id, token: secret, role: request.role, ...(request.systems ? { systems: request.systems } : {}), ...(request.label ? { label: request.label } : {}) }),
      });
    });
  }
}
