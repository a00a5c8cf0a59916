import { Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { Principal } from '../domain/roles.js';
import { tokenHash } from '../domain/token-secret.js';
import { TENANT_DIRECTORY, type TenantDirectory } from '../tenant-directory.port.js';

export const ROOT_TOKEN = Symbol('RootToken');

/** Turns a bearer token into a principal; revoked and unknown tokens are nobody. No cache: revocation is immediate. */
@Injectable()
export class Authenticator {
  private readonly rootHash: Buffer;
  constructor(@Inject(ROOT_TOKEN) rootToken: string, @Inject(TENANT_DIRECTORY) private readonly directory: TenantDirectory) {
    this.rootHash = Buffer.from(tokenHash(rootToken), 'hex');
  }

  async principal(authorization: string | undefined): Promise<Principal | null> {
    const m = /^Bearer\s+(\S{1,512})\s*$/i.exec(authorization ?? '');
    if (!m) return null;
    const hash = tokenHash(m[1]!);
    if (timingSafeEqual(Buffer.from(hash, 'hex'), this.rootHash)) return { kind: 'root' };
    const t = await this.directory.tokenByHash(hash);
    if (!t || t.revokedAt) return null;
    return { kind: 'token', tokenId: t.id, tenant: t.tenant, role: t.role, systems: t.systems };
  }

  async tenantExists(tenant: string): Promise<boolean> {
    return (await this.directory.tenant(tenant)) !== null;
  }
}
