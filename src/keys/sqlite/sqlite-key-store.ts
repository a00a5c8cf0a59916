import type { Db } from '../../common/sqlite/open-database.js';
import type { MasterKey } from '../master-key.js';
import { keyRefId, MASTER_IDS, type KeyHold, type KeyReads, type KeyWrites, type LiveKey, type LogMark } from '../key-store.port.js';
import { WrappingKeyStore } from '../application/wrapping-key-store.js';
import { ensureKeySchema } from './sqlite-key-writer.js';

/** Reads of the embedded key store (`keys.db`), on this thread's connection. */
function sqliteKeyReads(db: Db): KeyReads {
  ensureKeySchema(db);
  const s = {
    live: db.prepare('select generation, wrapped from data_keys where tenant = ? and subject = ? and category = ? order by generation desc limit 1'),
    generation: db.prepare('select wrapped from data_keys where tenant = ? and subject = ? and category = ? and generation = ?').pluck(),
    indexKey: db.prepare('select wrapped from index_keys where tenant = ?').pluck(),
    lookup: db.prepare('select subject, category from blind_index where tenant = ? and hmac = ? order by subject, category'),
    checkpoint: db.prepare('select position from blind_index_checkpoint where tenant = ?').pluck(),
    liveKeys: db.prepare('select category, max(created_at) as createdAt from data_keys where tenant = ? and subject = ? group by category order by category'),
    holds: db.prepare('select tenant, subject, category, until, purpose, legal_basis as legalBasis from key_holds where (? is null or tenant = ?) and until <= ? order by until'),
    mark: db.prepare('select position, hash from log_marks where tenant = ? and kind = ?'),
    masterIds: db.prepare(MASTER_IDS).pluck(),
  };
  return {
    live: async (t, subject, category) => s.live.get(t, subject, category) as { generation: number; wrapped: Buffer } | undefined,
    liveMany: async (t, refs) => {
      const out = new Map<string, { generation: number; wrapped: Buffer }>();
      for (const r of refs) {
        const row = s.live.get(t, r.subject, r.category) as { generation: number; wrapped: Buffer } | undefined;
        if (row) out.set(keyRefId(r), row);
      }
      return out;
    },
    generation: async (t, subject, category, g) => s.generation.get(t, subject, category, g) as Buffer | undefined,
    indexKey: async (t) => s.indexKey.get(t) as Buffer | undefined,
    lookup: async (t, hmac) => s.lookup.all(t, hmac) as Array<{ subject: string; category: string }>,
    checkpoint: async (t) => s.checkpoint.get(t) as number | undefined,
    liveKeys: async (t, subject) => s.liveKeys.all(t, subject) as LiveKey[],
    holds: async (t, dueBy) => s.holds.all(t, t, dueBy) as KeyHold[],
    mark: async (t, kind) => s.mark.get(t, kind) as LogMark | undefined,
    masterIds: async () => s.masterIds.all() as string[],
    close: () => { if (db.open) db.close(); },
  };
}

/** The embedded key store: its own SQLite file, apart from the log, with `secure_delete` on. */
export class SqliteKeyStore extends WrappingKeyStore {
  /** Reads through `db`; every write goes through `writes` (this thread, or the storage worker). */
  constructor(db: Db, writes: KeyWrites, master: MasterKey, now: () => string, cacheSize = 100_000) {
    super(sqliteKeyReads(db), writes, master, now, cacheSize);
  }
}
