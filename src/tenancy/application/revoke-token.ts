import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { LedgerWriter } from '../../ledger/application/ledger-writer.js';
import { actorOf } from '../../common/kernel/actor.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import type { IdGenerator } from '../../common/kernel/ids.js';
import { ID_GENERATOR } from '../../common/application/tokens.js';
import type { Principal } from '../domain/roles.js';
import { TENANT_DIRECTORY, type TenantDirectory } from '../tenant-directory.port.js';

export class RevokeToken extends Command<Either<DomainError, void>> {
  constructor(readonly tenant: string, readonly tokenId: string, readonly by: Principal) { super(); }
}

@CommandHandler(RevokeToken)
export class RevokeTokenHandler implements ICommandHandler<RevokeToken> {
  constructor(
    private readonly writer: LedgerWriter,
    @Inject(TENANT_DIRECTORY) private readonly directory: TenantDirectory,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
  ) {}

  execute({ tenant, tokenId, by }: RevokeToken) {
    return this.writer.append<DomainError, void>(tenant, async () => {
      const token = await this.directory.token(tenant, tokenId);
      if (!token) return left({ _tag: 'TokenNotFound', tokenId });
      const drafts = token.revokedAt ? [] : [{ type: 'token-revoked' as const, eventId: this.ids.uuid(), actor: actorOf(by), token: { id: tokenId } }];
      return right({ drafts, answer: () => undefined });
    });
  }
}
