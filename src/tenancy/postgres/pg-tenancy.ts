import { residencyOf } from '../domain/tenant.js';
import { coalesced } from '../../common/kernel/coalesce.js';
import type pg from 'pg';
import { entryOf } from '../../ledger/entry-of.js';
import type { PgProjection } from '../../ledger/postgres/pg-projection.js';
import type { Role } from '../domain/roles.js';
import type { TenantSettings } from '../domain/tenant.js';
import type { TenantDirectory, TokenRecord } from '../tenant-directory.port.js';

const TYPES = new Set(['tenant-declared', 'token-issued', 'token-revoked']);

/** Tenants and their tokens (hashes only), folded from `tenant-declared`, `token-issued`, `token-revoked`. */
export function pgTenancyProjection(): PgProjection {
  return {
    name: 'tenancy',
    tables: ['tenants', 'tokens'],
    async apply(tx, events) {
      for (const { recorded, context } of events) {
        if (!TYPES.has(recorded.type)) continue;
        const e = entryOf(recorded, context);
        if (e.type === 'tenant-declared') {
          await tx.query('insert into tenants (id, name, residency, position) values ($1, $2, $3, $4) on conflict (id) do update set name = excluded.name, residency = excluded.residency, position = excluded.position',
            [e.tenant, e.settings.name, JSON.stringify(residencyOf(e.settings)), e.position]);
        } else if (e.type === 'token-issued') {
          await tx.query('insert into tokens (id, tenant, hash, role, systems, label, issued_at) values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing',
            [e.token.id, e.tenant, e.token.hash, e.token.role, e.token.systems ? JSON.stringify(e.token.systems) : null, e.token.label ?? null, e.recordedAt]);
        } else if (e.type === 'token-revoked') {
          await tx.query('update tokens set revoked_at = $1 where id = $2 and tenant = $3 and revoked_at is null', [e.recordedAt, e.token.id, e.tenant]);
        }
      }
    },
  };
}

interface TokenRow { id: string; tenant: string; role: Role; systems: string[] | null; label: string | null; issued_at: string; revoked_at: string | null }
const toToken = (r: TokenRow): TokenRecord => ({ id: r.id, tenant: r.tenant, role: r.role, systems: r.systems, label: r.label, issuedAt: r.issued_at, revokedAt: r.revoked_at });

/** Read with no cache, like on SQLite: a token revoked through any ledger process is refused by all at once. */
export class PgTenantDirectory implements TenantDirectory {
  constructor(private readonly pool: pg.Pool) {}

  async tenant(id: string): Promise<TenantSettings | null> {
    const r = (await this.pool.query<{ id: string; name: string; residency: string[] }>('select id, name, residency from tenants where id = $1', [id])).rows[0];
    return r ? { id: r.id, name: r.name, residency: r.residency } : null;
  }

  async tenantIds(): Promise<string[]> {
    return (await this.pool.query<{ id: string }>('select id from tenants')).rows.map((r) => r.id).sort();
  }

  /**
   * Every request asks this: the hashes asked within one turn of the event loop are read in one query,
   * each after its request arrived.
   */
  private readonly byHash = coalesced(async (hashes: string[]) => {
    const rows = (await this.pool.query<TokenRow & { hash: string }>('select id, tenant, hash, role, systems, label, issued_at, revoked_at from tokens where hash = any($1::text[])', [hashes])).rows;
    return new Map(rows.map((r) => [r.hash, toToken(r)]));
  });

  async tokenByHash(hash: string): Promise<TokenRecord | null> {
    return (await this.byHash(hash)) ?? null;
  }

  async token(tenant: string, id: string): Promise<TokenRecord | null> {
    const r = (await this.pool.query<TokenRow>('select * from tokens where tenant = $1 and id = $2', [tenant, id])).rows[0];
    return r ? toToken(r) : null;
  }

  async tokens(tenant: string): Promise<TokenRecord[]> {
    return (await this.pool.query<TokenRow>('select * from tokens where tenant = $1 order by issued_at, id', [tenant])).rows.map(toToken);
  }
}
