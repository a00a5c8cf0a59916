import type { TenantSettings } from '../domain/tenant.js';
import type { TenantDirectory, TokenRecord } from '../tenant-directory.port.js';

/** Entries kept per map; past it, the oldest go first. */
const LIMIT = 10_000;

/**
 * The tenant directory as the authenticator reads it on every request, through a cache of live tokens
 * and existing tenants. Only for a store this process alone writes (the embedded one): `invalidate` is
 * called by every commit that may change tenancy (any administrative commit), before that commit's
 * request is answered, so a revoked token is refused from the revocation's answer on. A read that
 * started before an invalidation does not fill the cache (it may have read the earlier state).
 * Unknown and revoked tokens are never cached: guessing tokens cannot fill it.
 */
export class CachedTenantDirectory implements TenantDirectory {
  private readonly liveTokens = new Map<string, TokenRecord>();
  private readonly tenants = new Map<string, TenantSettings>();
  private generation = 0;

  constructor(private readonly inner: TenantDirectory, private readonly limit = LIMIT) {}

  invalidate(): void {
    this.generation++;
    this.liveTokens.clear();
    this.tenants.clear();
  }

  private keep<V>(map: Map<string, V>, key: string, value: V, generation: number) {
    if (generation !== this.generation) return;
    if (map.size >= this.limit) map.delete(map.keys().next().value as string);
    map.set(key, value);
  }

  async tokenByHash(hash: string): Promise<TokenRecord | null> {
    const cached = this.liveTokens.get(hash);
    if (cached) return cached;
    const generation = this.generation;
    const t = await this.inner.tokenByHash(hash);
    if (t && !t.revokedAt) this.keep(this.liveTokens, hash, t, generation);
    return t;
  }

  async tenant(id: string): Promise<TenantSettings | null> {
    const cached = this.tenants.get(id);
    if (cached) return cached;
    const generation = this.generation;
    const t = await this.inner.tenant(id);
    if (t) this.keep(this.tenants, id, t, generation);
    return t;
  }

  tenantIds(): Promise<string[]> {
    return this.inner.tenantIds();
  }

  token(tenant: string, id: string): Promise<TokenRecord | null> {
    return this.inner.token(tenant, id);
  }

  tokens(tenant: string): Promise<TokenRecord[]> {
    return this.inner.tokens(tenant);
  }
}
