import { CachedTenantDirectory } from '../../src/tenancy/application/cached-tenant-directory.js';
import type { TenantDirectory, TokenRecord } from '../../src/tenancy/tenant-directory.port.js';

/** A directory whose answers the test sets, counting reads, and whose next read can be held open. */
function directory() {
  const tokens = new Map<string, TokenRecord>();
  let reads = 0;
  let hold: Promise<void> | null = null;
  const inner: TenantDirectory = {
    tenant: async (id) => (id === 'acme' ? { name: 'Acme' } as never : null),
    tenantIds: async () => ['acme'],
    tokenByHash: async (hash) => {
      reads++;
      const answer = tokens.get(hash) ?? null;
      if (hold) await hold;
      return answer;
    },
    token: async () => null,
    tokens: async () => [],
  };
  return { inner, tokens, reads: () => reads, holdNext: (p: Promise<void>) => { hold = p; } };
}
const token = (revokedAt: string | null = null): TokenRecord => ({ id: 't1', tenant: 'acme', role: 'auditor', systems: null, label: null, issuedAt: '2026-01-01T00:00:00Z', revokedAt });

describe('the cached tenant directory', () => {
  it('reads a live token once, and again after an invalidation', async () => {
    const d = directory();
    d.tokens.set('h', token());
    const c = new CachedTenantDirectory(d.inner);
    await c.tokenByHash('h');
    await c.tokenByHash('h');
    expect(d.reads()).toBe(1);
    d.tokens.set('h', token('2026-02-01T00:00:00Z'));
    c.invalidate();
    expect((await c.tokenByHash('h'))?.revokedAt).toBe('2026-02-01T00:00:00Z');
  });

  it('never keeps unknown or revoked tokens', async () => {
    const d = directory();
    d.tokens.set('r', token('2026-02-01T00:00:00Z'));
    const c = new CachedTenantDirectory(d.inner);
    for (let i = 0; i < 3; i++) { await c.tokenByHash('nobody'); await c.tokenByHash('r'); }
    expect(d.reads()).toBe(6);
  });

  it('does not keep what a read that began before an invalidation found', async () => {
    const d = directory();
    d.tokens.set('h', token());
    const c = new CachedTenantDirectory(d.inner);
    let release!: () => void;
    d.holdNext(new Promise<void>((r) => { release = r; }));
    const early = c.tokenByHash('h');
    // The token is revoked and the cache invalidated while the first read is under way.
    d.tokens.set('h', token('2026-02-01T00:00:00Z'));
    c.invalidate();
    release();
    expect((await early)?.revokedAt).toBeNull();
    d.holdNext(Promise.resolve());
    expect((await c.tokenByHash('h'))?.revokedAt).toBe('2026-02-01T00:00:00Z');
  });

  it('keeps at most its limit of entries', async () => {
    const d = directory();
    for (let i = 0; i < 5; i++) d.tokens.set(`h${i}`, token());
    const c = new CachedTenantDirectory(d.inner, 2);
    for (let i = 0; i < 5; i++) await c.tokenByHash(`h${i}`);
    await c.tokenByHash('h4');
    await c.tokenByHash('h0');
    expect(d.reads()).toBe(6);
  });
});
