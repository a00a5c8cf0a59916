import type { Db } from '../../common/sqlite/open-database.js';
import type { Role } from '../domain/roles.js';
import type { TenantSettings } from '../domain/tenant.js';
import type { TenantDirectory, TokenRecord } from '../tenant-directory.port.js';
import type { Synchronous } from '../../common/kernel/promised.js';

interface TokenRow { id: string; tenant: string; role: Role; systems: string | null; label: string | null; issued_at: string; revoked_at: string | null }
const toToken = (r: TokenRow): TokenRecord => ({
  id: r.id, tenant: r.tenant, role: r.role, systems: r.systems ? (JSON.parse(r.systems) as string[]) : null, label: r.label, issuedAt: r.issued_at, revokedAt: r.revoked_at,
});

export class SqliteTenantDirectory implements Synchronous<TenantDirectory> {
  private readonly stmt;
  constructor(db: Db) {
    this.stmt = {
      tenant: db.prepare('select id, name, residency from tenants where id = ?'),
      ids: db.prepare('select id from tenants order by id'),
      byHash: db.prepare('select * from tokens where hash = ?'),
      token: db.prepare('select * from tokens where tenant = ? and id = ?'),
      tokens: db.prepare('select * from tokens where tenant = ? order by issued_at, id'),
    };
  }
  tenant(id: string): TenantSettings | null {
    const r = this.stmt.tenant.get(id) as { id: string; name: string; residency: string } | undefined;
    return r ? { id: r.id, name: r.name, residency: JSON.parse(r.residency) as string[] } : null;
  }
  tenantIds(): string[] {
    return (this.stmt.ids.all() as Array<{ id: string }>).map((r) => r.id);
  }
  tokenByHash(hash: string): TokenRecord | null {
    const r = this.stmt.byHash.get(hash) as TokenRow | undefined;
    return r ? toToken(r) : null;
  }
  token(tenant: string, id: string): TokenRecord | null {
    const r = this.stmt.token.get(tenant, id) as TokenRow | undefined;
    return r ? toToken(r) : null;
  }
  tokens(tenant: string): TokenRecord[] {
    return (this.stmt.tokens.all(tenant) as TokenRow[]).map(toToken);
  }
}
