import type { Db } from '../../common/sqlite/open-database.js';
import type { MasterKey } from '../master-key.js';
import { aad, newKey, open, seal } from '../domain/sealing.js';
import { keyRefId, type DataKey, type IndexEntry, type KeyRef, type KeyStore } from '../key-store.port.js';

const SCHEMA = `
create table if not exists data_keys (
  tenant text not null, subject text not null, category text not null, generation integer not null,
  wrapped blob not null, master_id text not null, created_at text not null,
  primary key (tenant, subject, category, generation)) without rowid;
create table if not exists index_keys (tenant text primary key, wrapped blob not null, master_id text not null) without rowid;
create table if not exists blind_index (
  tenant text not null, hmac blob not null, subject text not null, category text not null,
  primary key (tenant, hmac, subject, category)) without rowid;
create table if not exists blind_index_checkpoint (tenant text primary key, position integer not null) without rowid;
`;

const INDEX_FLUSH_ENTRIES = 20_000;
const INDEX_FLUSH_MS = 200;

interface Staged { tenant: string; ref: KeyRef; key: DataKey }

/** The embedded key store: its own SQLite file, apart from the log, with `secure_delete` on. */
export class SqliteKeyStore implements KeyStore {
  private readonly cache = new Map<string, DataKey>();
  private readonly indexKeys = new Map<string, Buffer>();
  private staged: Staged[] = [];
  private stagedByRef = new Map<string, DataKey>();
  private stagedIndexKeys = new Map<string, Buffer>();
  private readonly stmt;
  private pendingIndex: Array<{ tenant: string; e: IndexEntry }> = [];
  private pendingCheckpoints = new Map<string, number>();
  private indexTimer: NodeJS.Timeout | null = null;

  /**
   * `db` commits keys with `synchronous = FULL`; `indexDb`, a second connection to the same file,
   * writes the blind index with `synchronous = NORMAL` (no fsync: it is completed from the log after a crash).
   */
  constructor(private readonly db: Db, private readonly indexDb: Db, private readonly master: MasterKey, private readonly now: () => string, private readonly cacheSize = 100_000) {
    db.exec(SCHEMA);
    indexDb.pragma('synchronous = NORMAL');
    this.stmt = {
      live: db.prepare('select generation, wrapped from data_keys where tenant = ? and subject = ? and category = ? order by generation desc limit 1'),
      generation: db.prepare('select wrapped from data_keys where tenant = ? and subject = ? and category = ? and generation = ?'),
      lastGeneration: db.prepare('select max(generation) as g from data_keys where tenant = ? and subject = ? and category = ?'),
      insertKey: db.prepare('insert into data_keys (tenant, subject, category, generation, wrapped, master_id, created_at) values (?, ?, ?, ?, ?, ?, ?)'),
      indexKey: db.prepare('select wrapped from index_keys where tenant = ?'),
      insertIndexKey: db.prepare('insert into index_keys (tenant, wrapped, master_id) values (?, ?, ?)'),
      insertEntry: indexDb.prepare('insert or ignore into blind_index (tenant, hmac, subject, category) values (?, ?, ?, ?)'),
      lookup: db.prepare('select subject, category from blind_index where tenant = ? and hmac = ? order by subject, category'),
      checkpoint: db.prepare('select position from blind_index_checkpoint where tenant = ?'),
      setCheckpoint: indexDb.prepare('insert into blind_index_checkpoint (tenant, position) values (?, ?) on conflict (tenant) do update set position = max(position, excluded.position)'),
    };
  }

  private cacheKey(tenant: string, ref: KeyRef) {
    return `${tenant}\u0000${keyRefId(ref)}`;
  }

  private remember(id: string, key: DataKey) {
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
    for (const ref of refs) {
      const id = keyRefId(ref);
      if (out.has(id)) continue;
      const ck = this.cacheKey(tenant, ref);
      let key = this.cache.get(ck) ?? this.stagedByRef.get(ck);
      if (!key) {
        const row = this.stmt.live.get(tenant, ref.subject, ref.category) as { generation: number; wrapped: Buffer } | undefined;
        if (row) {
          key = { generation: row.generation, key: this.unwrap(tenant, ref, row.generation, row.wrapped) };
          this.remember(ck, key);
        }
      }
      if (!key && create) {
        const last = (this.stmt.lastGeneration.get(tenant, ref.subject, ref.category) as { g: number | null }).g;
        key = { generation: (last ?? 0) + 1, key: newKey() };
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
    const row = this.stmt.generation.get(tenant, ref.subject, ref.category, generation) as { wrapped: Buffer } | undefined;
    return row ? this.unwrap(tenant, ref, generation, row.wrapped) : null;
  }

  async indexKey(tenant: string): Promise<Buffer> {
    const known = this.indexKeys.get(tenant) ?? this.stagedIndexKeys.get(tenant);
    if (known) return known;
    const row = this.stmt.indexKey.get(tenant) as { wrapped: Buffer } | undefined;
    if (row) {
      const key = open(this.master.key, row.wrapped.toString('base64url'), aad.indexKey(tenant));
      if (!key) throw new Error('an index key does not open with the master key (wrong PDL_MASTER_KEY?)');
      this.indexKeys.set(tenant, key);
      return key;
    }
    const key = newKey();
    this.stagedIndexKeys.set(tenant, key);
    return key;
  }

  async addIndexEntries(tenant: string, entries: readonly IndexEntry[], position: number): Promise<void> {
    // Buffered and written in larger groups (random keys touch many pages); lookups read the buffer too.
    for (const e of entries) this.pendingIndex.push({ tenant, e });
    this.pendingCheckpoints.set(tenant, Math.max(position, this.pendingCheckpoints.get(tenant) ?? -1));
    if (this.pendingIndex.length >= INDEX_FLUSH_ENTRIES) this.flushIndex();
    else this.indexTimer ??= setTimeout(() => this.flushIndex(), INDEX_FLUSH_MS);
  }

  /** Writes buffered index entries; no fsync of its own: the checkpoint moves in the same transaction. */
  flushIndex(): void {
    if (this.indexTimer) clearTimeout(this.indexTimer);
    this.indexTimer = null;
    if (!this.pendingIndex.length && !this.pendingCheckpoints.size) return;
    const entries = this.pendingIndex;
    const checkpoints = this.pendingCheckpoints;
    this.pendingIndex = [];
    this.pendingCheckpoints = new Map();
    this.indexDb.transaction(() => {
      for (const { tenant, e } of entries) this.stmt.insertEntry.run(tenant, e.hmac, e.subject, e.category);
      for (const [tenant, position] of checkpoints) this.stmt.setCheckpoint.run(tenant, position);
    })();
  }

  async indexCheckpoint(tenant: string): Promise<number> {
    this.flushIndex();
    return (this.stmt.checkpoint.get(tenant) as { position: number } | undefined)?.position ?? -1;
  }

  async commit(): Promise<void> {
    if (!this.staged.length && !this.stagedIndexKeys.size) return;
    const createdAt = this.now();
    this.db.transaction(() => {
      for (const [tenant, key] of this.stagedIndexKeys) {
        this.stmt.insertIndexKey.run(tenant, Buffer.from(seal(this.master.key, 0, key, aad.indexKey(tenant)), 'base64url'), this.master.id);
      }
      for (const s of this.staged) {
        const wrapped = Buffer.from(seal(this.master.key, 0, s.key.key, aad.dataKey(s.tenant, s.ref.subject, s.ref.category, s.key.generation)), 'base64url');
        this.stmt.insertKey.run(s.tenant, s.ref.subject, s.ref.category, s.key.generation, wrapped, this.master.id, createdAt);
      }
    })();
    for (const s of this.staged) this.remember(this.cacheKey(s.tenant, s.ref), s.key);
    for (const [tenant, key] of this.stagedIndexKeys) this.indexKeys.set(tenant, key);
    this.clearStaged();
  }

  discard(): void {
    this.clearStaged();
  }

  private clearStaged() {
    this.staged = [];
    this.stagedByRef = new Map();
    this.stagedIndexKeys = new Map();
  }

  async lookup(tenant: string, hmac: Buffer): Promise<Array<{ subject: string; category: string }>> {
    this.flushIndex();
    return this.stmt.lookup.all(tenant, hmac) as Array<{ subject: string; category: string }>;
  }

  close(): void {
    if (this.indexDb.open) this.flushIndex();
    if (this.indexDb.open) this.indexDb.close();
    if (this.db.open) this.db.close();
  }
}
