import type pg from 'pg';
import { migratedPool, type Migration } from '../../common/postgres/migrations.js';
import { inTransaction } from '../../common/postgres/transaction.js';
import { arrayLiteral, insertRows, insertStatement, lookUpEach } from '../../common/postgres/rows.js';
import type { MasterKey } from '../master-key.js';
import { KeyRace, keyRefId, MASTER_IDS, type KeyRef, type IndexEntry, type KeyHold, type KeyReads, type KeyWrites, type SubjectKeys, type LiveKey, type LogMark, type LogMarkKind, type WrappedIndexKeyRow, type WrappedKeyRow } from '../key-store.port.js';
import { WrappingKeyStore } from '../application/wrapping-key-store.js';

/** The key store's tables, in a schema of their own (apart from the log and the read models). Only ever append. */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
create table if not exists data_keys (
  tenant text not null, subject text not null, category text not null, generation integer not null,
  wrapped bytea not null, master_id text not null, created_at text not null,
  primary key (tenant, subject, category, generation));
create table if not exists index_keys (tenant text primary key, wrapped bytea not null, master_id text not null);
create table if not exists blind_index (tenant text not null, hmac bytea not null, subject text not null, category text not null, primary key (tenant, hmac, subject, category));
create table if not exists blind_index_checkpoint (tenant text primary key, position bigint not null);
create table if not exists key_holds (
  tenant text not null, subject text not null, category text not null, until text not null, purpose text not null, legal_basis text not null,
  primary key (tenant, subject, category));`,
  },
  { version: 2, sql: 'create table erasure_sweeps (tenant text primary key, position bigint not null, hash text not null);' },
  {
    version: 3,
    sql: `create table log_marks (tenant text not null, kind text not null, position bigint not null, hash text not null, primary key (tenant, kind));
insert into log_marks (tenant, kind, position, hash) select tenant, 'erasure-sweep', position, hash from erasure_sweeps;
drop table erasure_sweeps;`,
  },
];
const MIGRATION_LOCK = 0x70646c02;
export const KEYS_SCHEMA = 'pdl_keys';

/** A pool on the key store's schema, migrated. */
export const keysPool = (connectionString: string, schema: string, max: number): Promise<pg.Pool> =>
  migratedPool(connectionString, schema, 'keys', MIGRATION_LOCK, MIGRATIONS, max);
const bytes = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/**
 * Key storage on PostgreSQL: every write is its own transaction, durable at commit. Destroyed keys are
 * deleted and their table vacuumed so the dead row versions are reclaimed; PostgreSQL may still hold
 * them in its write-ahead log and in freed pages until those are reused (the README says so): keep this
 * schema's backups and WAL archives under the same bounded retention as the embedded `keys.db`.
 */
const INDEX_GROUP = 5000;
const INDEX_FLUSH_MS = 250;

export class PgKeyStorage implements KeyReads, KeyWrites {
  private pendingIndex = new Map<string, { entries: IndexEntry[]; position: number }>();
  private pendingCount = 0;
  private indexTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  private constructor(private readonly pool: pg.Pool, readonly schema: string) {}

  static async open(connectionString: string, schema = KEYS_SCHEMA): Promise<PgKeyStorage> {
    return new PgKeyStorage(await keysPool(connectionString, schema, 4), schema);
  }

  private async one<T>(sql: string, args: unknown[]): Promise<T | undefined> {
    return (await this.pool.query(sql, args)).rows[0] as T | undefined;
  }

  live(tenant: string, subject: string, category: string) {
    return this.one<{ generation: number; wrapped: Buffer }>('select generation, wrapped from data_keys where tenant = $1 and subject = $2 and category = $3 order by generation desc limit 1', [tenant, subject, category]);
  }

  async liveMany(tenant: string, refs: readonly KeyRef[]) {
    const out = new Map<string, { generation: number; wrapped: Buffer }>();
    if (refs.length === 0) return out;
    const unique = [...new Map(refs.map((r) => [keyRefId(r), r])).values()];
    // Each (subject, category) looked up in the primary key, its last generation first (`lookUpEach`).
    const { rows } = await this.pool.query<{ subject: string; category: string; generation: number; wrapped: Buffer }>(
      `select k.subject, k.category, k.generation, k.wrapped from ${lookUpEach({ s: '$2::text[]', c: '$3::text[]' }, 'k',
        'select * from data_keys where tenant = $1 and subject = s and category = c order by generation desc limit 1')}`,
      [tenant, arrayLiteral(unique.map((r) => r.subject)), arrayLiteral(unique.map((r) => r.category))]);
    for (const r of rows) out.set(keyRefId(r), { generation: r.generation, wrapped: r.wrapped });
    return out;
  }

  async generation(tenant: string, subject: string, category: string, generation: number) {
    return (await this.one<{ wrapped: Buffer }>('select wrapped from data_keys where tenant = $1 and subject = $2 and category = $3 and generation = $4', [tenant, subject, category, generation]))?.wrapped;
  }

  async indexKey(tenant: string) {
    return (await this.one<{ wrapped: Buffer }>('select wrapped from index_keys where tenant = $1', [tenant]))?.wrapped;
  }

  async lookup(tenant: string, hmac: Buffer) {
    return (await this.pool.query<{ subject: string; category: string }>('select subject, category from blind_index where tenant = $1 and hmac = $2 order by subject, category', [tenant, hmac])).rows;
  }

  async checkpoint(tenant: string) {
    const p = (await this.one<{ position: string }>('select position from blind_index_checkpoint where tenant = $1', [tenant]))?.position;
    return p === undefined ? undefined : Number(p);
  }

  async liveKeys(tenant: string, subject: string): Promise<LiveKey[]> {
    return (await this.pool.query<LiveKey>('select category, max(created_at) as "createdAt" from data_keys where tenant = $1 and subject = $2 group by category order by category', [tenant, subject])).rows;
  }

  async holds(tenant: string | null, dueBy: string) {
    return (await this.pool.query<KeyHold>('select tenant, subject, category, until, purpose, legal_basis as "legalBasis" from key_holds where ($1::text is null or tenant = $1) and until <= $2 order by until', [tenant, dueBy])).rows;
  }

  async masterIds() {
    return (await this.pool.query<{ master_id: string }>(MASTER_IDS)).rows.map((r) => r.master_id);
  }

  async mark(tenant: string, kind: LogMarkKind) {
    const r = await this.one<{ position: string; hash: string }>('select position, hash from log_marks where tenant = $1 and kind = $2', [tenant, kind]);
    return r && { position: Number(r.position), hash: r.hash };
  }

  async setMark(tenant: string, kind: LogMarkKind, mark: LogMark): Promise<void> {
    await this.pool.query('insert into log_marks (tenant, kind, position, hash) values ($1, $2, $3, $4) on conflict (tenant, kind) do update set position = excluded.position, hash = excluded.hash', [tenant, kind, mark.position, mark.hash]);
  }

  async insertKeys(indexKeys: readonly WrappedIndexKeyRow[], keys: readonly WrappedKeyRow[]): Promise<void> {
    const dataKeys = insertStatement('data_keys', [['tenant', 'text'], ['subject', 'text'], ['category', 'text'], ['generation', 'integer'], ['wrapped', 'bytea'], ['master_id', 'text'], ['created_at', 'text']],
      keys.map((k) => [k.tenant, k.subject, k.category, k.generation, bytes(k.wrapped), k.masterId, k.createdAt]));
    try {
      // Data keys alone (every cycle with new subjects): one statement, all or none of its rows, in one round trip.
      if (indexKeys.length === 0) {
        if (dataKeys) await this.pool.query(dataKeys.sql, dataKeys.params as unknown[]);
        return;
      }
      await inTransaction(this.pool, async (c) => {
        for (const k of indexKeys) await c.query('insert into index_keys (tenant, wrapped, master_id) values ($1, $2, $3)', [k.tenant, bytes(k.wrapped), k.masterId]);
        if (dataKeys) await c.query(dataKeys.sql, dataKeys.params as unknown[]);
      });
    } catch (e) {
      // A unique key taken meanwhile: another process created the same key (none of these was written).
      if ((e as { code?: string }).code === '23505') throw new KeyRace();
      throw e;
    }
  }

  /**
   * Blind-index entries are written in groups (every 250 ms, or 5,000 entries), without waiting for the
   * write-ahead log's flush: what a crash loses is completed from the log at the next start, as on the
   * embedded store. Lookups, checkpoints and destructions write what is pending first.
   */
  addIndexEntries(tenant: string, entries: readonly IndexEntry[], position: number): Promise<void> {
    const p = this.pendingIndex.get(tenant) ?? { entries: [], position: -1 };
    p.entries.push(...entries);
    p.position = Math.max(p.position, position);
    this.pendingIndex.set(tenant, p);
    this.pendingCount += entries.length;
    if (this.pendingCount >= INDEX_GROUP) return this.flushIndex();
    this.indexTimer ??= setTimeout(() => void this.flushIndex().catch(() => undefined), INDEX_FLUSH_MS).unref();
    return Promise.resolve();
  }

  /** Writes the pending blind-index entries (one transaction for every tenant's). */
  flushIndex(): Promise<void> {
    if (this.indexTimer) clearTimeout(this.indexTimer);
    this.indexTimer = null;
    // Nothing pending: wait for a group being written (its failure is its writer's to report).
    if (this.pendingIndex.size === 0) return this.flushing.catch(() => undefined);
    const groups = [...this.pendingIndex];
    this.pendingIndex = new Map();
    this.pendingCount = 0;
    // One flush at a time, in order: a later group never overtakes an earlier one.
    this.flushing = this.flushing.catch(() => undefined).then(() => inTransaction(this.pool, async (c) => {
      await c.query('set local synchronous_commit = off');
      for (const [tenant, { entries, position }] of groups) {
        if (entries.length) {
          await insertRows(c, 'blind_index', [['tenant', 'text'], ['hmac', 'bytea'], ['subject', 'text'], ['category', 'text']],
            entries.map((e) => [tenant, e.hmac, e.subject, e.category]), 'on conflict do nothing');
        }
        await c.query('insert into blind_index_checkpoint (tenant, position) values ($1, $2) on conflict (tenant) do update set position = greatest(blind_index_checkpoint.position, excluded.position)', [tenant, position]);
      }
    }));
    return this.flushing;
  }

  async destroyKeys(tenant: string, keys: readonly SubjectKeys[], index: readonly IndexEntry[]): Promise<void> {
    // Pending entries first, or they would be written after their values' keys are gone.
    await this.flushIndex();
    const doomed = new Set(keys.flatMap((k) => k.categories.map((c) => `${k.subject}\u0000${c}`)));
    await inTransaction(this.pool, async (c) => {
      for (const { subject, categories } of keys) {
        await c.query('delete from data_keys where tenant = $1 and subject = $2 and category = any($3)', [tenant, subject, categories]);
        await c.query('delete from key_holds where tenant = $1 and subject = $2 and category = any($3)', [tenant, subject, categories]);
      }
      for (const e of index) if (doomed.has(`${e.subject}\u0000${e.category}`)) await c.query('delete from blind_index where tenant = $1 and hmac = $2 and subject = $3 and category = $4', [tenant, bytes(e.hmac), e.subject, e.category]);
    });
    await this.pool.query('vacuum data_keys');
  }

  async setHold(tenant: string, subject: string, category: string, hold: { until: string; purpose: string; legalBasis: string } | null): Promise<void> {
    if (!hold) await this.pool.query('delete from key_holds where tenant = $1 and subject = $2 and category = $3', [tenant, subject, category]);
    else await this.pool.query('insert into key_holds (tenant, subject, category, until, purpose, legal_basis) values ($1, $2, $3, $4, $5, $6) on conflict (tenant, subject, category) do update set until = excluded.until, purpose = excluded.purpose, legal_basis = excluded.legal_basis', [tenant, subject, category, hold.until, hold.purpose, hold.legalBasis]);
  }

  async healthy(): Promise<boolean> {
    return (await this.pool.query('select 1')).rowCount === 1;
  }

  async dropSchema(): Promise<void> {
    await this.pool.query(`drop schema if exists ${this.schema} cascade`);
  }

  private ended: Promise<void> | null = null;

  close(): void {
    void this.end();
  }

  /** Ends the pool (once) and waits for it. */
  end(): Promise<void> {
    this.ended ??= this.flushIndex().catch(() => undefined).then(() => this.pool.end());
    return this.ended;
  }
}

/**
 * The key store on PostgreSQL. Keys are not cached: other ledger processes may destroy them (crypto-
 * shredding must take effect in every process at once) or create them.
 */
export async function openPgKeyStore(connectionString: string, master: MasterKey, now: () => string, schema?: string) {
  const storage = await PgKeyStorage.open(connectionString, schema);
  return { store: new WrappingKeyStore(storage, storage, master, now, 0), storage };
}
