import type { MasterKey } from '../master-key.js';
import { aad, newKey, open, seal } from '../domain/sealing.js';
import { keyRefId, WrongMasterKey, type DataKey, type IndexEntry, type KeyHold, type KeyReads, type KeyRef, type KeyStore, type KeyWrites, type SubjectKeys, type LiveKey, type LogMark, type LogMarkKind } from '../key-store.port.js';

interface Staged { tenant: string; ref: KeyRef; key: DataKey }

/**
 * What every key store does whatever its storage: data keys created per (tenant, subject, category),
 * staged until `commit` makes them durable, cached once opened, wrapped by the master key (AES-256-GCM,
 * bound to their tenant, subject, category and generation) before they reach storage; `reads` and
 * `writes` are the storage (an embedded SQLite file, or PostgreSQL).
 *
 * A staged key stays visible (`stagedByRef`, `stagedIndexKeys`) from its creation until it is durable
 * (then cached) or its write failed; `staged` and `unwrittenIndexKeys` hold those no `commit` has taken
 * yet. A writer may commit again while an earlier commit's keys are still being written: each key is
 * written once, and a failed log commit (`discard`) drops only keys no commit has taken.
 */
export class WrappingKeyStore implements KeyStore {
  private readonly cache = new Map<string, DataKey>();
  private readonly indexKeys = new Map<string, Buffer>();
  private staged: Staged[] = [];
  private readonly stagedByRef = new Map<string, DataKey>();
  private readonly stagedIndexKeys = new Map<string, Buffer>();
  private unwrittenIndexKeys: Array<[tenant: string, key: Buffer]> = [];

  constructor(protected readonly reads: KeyReads, private readonly writes: KeyWrites, private readonly master: MasterKey, private readonly now: () => string, private readonly cacheSize = 100_000) {}

  private cacheKey(tenant: string, ref: KeyRef) {
    return `${tenant}\u0000${keyRefId(ref)}`;
  }

  private remember(id: string, key: DataKey) {
    if (this.cacheSize === 0) return;
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(id, key);
  }

  private unwrap(tenant: string, ref: KeyRef, generation: number, wrapped: Buffer): Buffer {
    const key = open(this.master.key, wrapped.toString('base64url'), aad.dataKey(tenant, ref.subject, ref.category, generation));
    if (!key) throw new Error('a data key does not open with the master key (wrong PDL_MASTER_KEY?)');
    return key;
  }

  async dataKeys(tenant: string, refs: readonly KeyRef[], create: boolean): Promise<Map<string, DataKey>> {
    const out = new Map<string, DataKey>();
    const missing = new Map<string, KeyRef>();
    for (const ref of refs) {
      const id = keyRefId(ref);
      if (out.has(id) || missing.has(id)) continue;
      const ck = this.cacheKey(tenant, ref);
      const key = this.cache.get(ck) ?? this.stagedByRef.get(ck);
      if (key) out.set(id, key);
      else missing.set(id, ref);
    }
    if (missing.size === 0) return out;
    // The keys not in memory, read in one go.
    const stored = await this.reads.liveMany(tenant, [...missing.values()]);
    for (const [id, ref] of missing) {
      const ck = this.cacheKey(tenant, ref);
      const row = stored.get(id);
      let key: DataKey | undefined;
      if (row) {
        key = { generation: row.generation, key: this.unwrap(tenant, ref, row.generation, row.wrapped) };
        this.remember(ck, key);
      } else if (create) {
        // No key (never one, or all destroyed): a new one, generation 1.
        key = { generation: 1, key: newKey() };
        this.staged.push({ tenant, ref, key });
        this.stagedByRef.set(ck, key);
      }
      if (key) out.set(id, key);
    }
    return out;
  }

  async dataKeyGeneration(tenant: string, ref: KeyRef, generation: number): Promise<Buffer | null> {
    const ck = this.cacheKey(tenant, ref);
    const cached = this.cache.get(ck);
    if (cached && cached.generation === generation) return cached.key;
    const wrapped = await this.reads.generation(tenant, ref.subject, ref.category, generation);
    return wrapped ? this.unwrap(tenant, ref, generation, wrapped) : null;
  }

  async existingIndexKey(tenant: string): Promise<Buffer | null> {
    const known = this.indexKeys.get(tenant) ?? this.stagedIndexKeys.get(tenant);
    if (known) return known;
    const wrapped = await this.reads.indexKey(tenant);
    if (!wrapped) return null;
    const key = open(this.master.key, wrapped.toString('base64url'), aad.indexKey(tenant));
    if (!key) throw new Error('an index key does not open with the master key (wrong PDL_MASTER_KEY?)');
    this.indexKeys.set(tenant, key);
    return key;
  }

  async indexKey(tenant: string): Promise<Buffer> {
    const existing = await this.existingIndexKey(tenant);
    if (existing) return existing;
    const key = newKey();
    this.stagedIndexKeys.set(tenant, key);
    this.unwrittenIndexKeys.push([tenant, key]);
    return key;
  }

  addIndexEntries(tenant: string, entries: readonly IndexEntry[], position: number): Promise<void> {
    return this.writes.addIndexEntries(tenant, entries, position);
  }

  async indexCheckpoint(tenant: string): Promise<number> {
    await this.writes.flushIndex();
    return (await this.reads.checkpoint(tenant)) ?? -1;
  }

  /**
   * Makes the keys staged so far durable. Keys staged while this runs (the next group of events is
   * prepared meanwhile) stay staged, and visible to `dataKeys`, until a later commit.
   */
  async commit(): Promise<void> {
    const keys = this.staged;
    const indexKeys = this.unwrittenIndexKeys;
    if (!keys.length && !indexKeys.length) return;
    this.staged = [];
    this.unwrittenIndexKeys = [];
    const createdAt = this.now();
    try {
      await this.writes.insertKeys(
        indexKeys.map(([tenant, key]) => ({ tenant, wrapped: Buffer.from(seal(this.master.key, 0, key, aad.indexKey(tenant)), 'base64url'), masterId: this.master.id })),
        keys.map((s) => ({
          tenant: s.tenant, subject: s.ref.subject, category: s.ref.category, generation: s.key.generation,
          wrapped: Buffer.from(seal(this.master.key, 0, s.key.key, aad.dataKey(s.tenant, s.ref.subject, s.ref.category, s.key.generation)), 'base64url'),
          masterId: this.master.id, createdAt,
        })),
      );
    } catch (e) {
      this.unstage(keys, indexKeys);
      throw e;
    }
    for (const s of keys) this.remember(this.cacheKey(s.tenant, s.ref), s.key);
    for (const [tenant, key] of indexKeys) this.indexKeys.set(tenant, key);
    this.unstage(keys, indexKeys);
  }

  /** No longer staged: durable now (and cached), or never to be. */
  private unstage(keys: readonly Staged[], indexKeys: ReadonlyArray<readonly [string, Buffer]>): void {
    for (const s of keys) {
      const ck = this.cacheKey(s.tenant, s.ref);
      if (this.stagedByRef.get(ck) === s.key) this.stagedByRef.delete(ck);
    }
    for (const [tenant, key] of indexKeys) if (this.stagedIndexKeys.get(tenant) === key) this.stagedIndexKeys.delete(tenant);
  }

  discard(): void {
    this.unstage(this.staged, this.unwrittenIndexKeys);
    this.staged = [];
    this.unwrittenIndexKeys = [];
  }

  async lookup(tenant: string, hmac: Buffer): Promise<Array<{ subject: string; category: string }>> {
    await this.writes.flushIndex();
    return this.reads.lookup(tenant, hmac);
  }

  async liveKeys(tenant: string, subject: string): Promise<LiveKey[]> {
    return this.reads.liveKeys(tenant, subject);
  }

  async destroy(tenant: string, keys: readonly SubjectKeys[], index: readonly IndexEntry[]): Promise<void> {
    await this.writes.destroyKeys(tenant, keys, index);
    for (const { subject, categories } of keys) {
      for (const c of categories) {
        const ck = this.cacheKey(tenant, { subject, category: c });
        this.cache.delete(ck);
        this.stagedByRef.delete(ck);
      }
    }
  }

  async holds(tenant?: string, dueBy = '9999-12-31T23:59:59.999Z'): Promise<KeyHold[]> {
    return this.reads.holds(tenant ?? null, dueBy);
  }

  setHold(tenant: string, subject: string, category: string, hold: { until: string; purpose: string; legalBasis: string } | null): Promise<void> {
    return this.writes.setHold(tenant, subject, category, hold);
  }

  async logMark(tenant: string, kind: LogMarkKind): Promise<LogMark | null> {
    return (await this.reads.mark(tenant, kind)) ?? null;
  }

  setLogMark(tenant: string, kind: LogMarkKind, mark: LogMark): Promise<void> {
    return this.writes.setMark(tenant, kind, mark);
  }

  async checkMaster(): Promise<void> {
    const stored = [...new Set(await this.reads.masterIds())];
    if (stored.some((id) => id !== this.master.id)) throw new WrongMasterKey(this.master.id, stored);
  }

  close(): void {
    this.reads.close();
  }
}
