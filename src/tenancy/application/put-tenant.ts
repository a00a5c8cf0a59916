import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { right, type Either } from 'fp-ts/lib/Either.js';
import { LedgerWriter } from '../../ledger/application/ledger-writer.js';
import { actorOf } from '../../common/kernel/actor.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import type { IdGenerator } from '../../common/kernel/ids.js';
import { ID_GENERATOR } from '../../common/application/tokens.js';
import type { Principal } from '../domain/roles.js';
import { residencyOf, type TenantBody, type TenantSettings } from '../domain/tenant.js';
import { TENANT_DIRECTORY, type TenantDirectory } from '../tenant-directory.port.js';

export interface PutTenantAnswer { readonly created: boolean; readonly tenant: TenantSettings }

export class PutTenant extends Command<Either<DomainError, PutTenantAnswer>> {
  constructor(readonly tenant: string, readonly body: TenantBody, readonly by: Principal) { super(); }
}

@CommandHandler(PutTenant)
export class PutTenantHandler implements ICommandHandler<PutTenant> {
  constructor(
    private readonly writer: LedgerWriter,
    @Inject(TENANT_DIRECTORY) private readonly directory: TenantDirectory,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
  ) {}

  execute({ tenant, body, by }: PutTenant) {
    const settings: TenantSettings = { id: tenant, name: body.name, residency: residencyOf(body) };
    return this.writer.append<DomainError, PutTenantAnswer>(tenant, async () => {
      const current = await this.directory.tenant(tenant);
      const unchanged = current && current.name === settings.name && JSON.stringify(current.residency) === JSON.stringify(settings.residency);
      return right({
        drafts: unchanged ? [] : [{ type: 'tenant-declared', eventId: this.ids.uuid(), actor: actorOf(by), settings: { name: settings.name, residency: [...settings.residency] } }],
        answer: () => ({ created: current === null, tenant: settings }),
      });
    });
  }
}
