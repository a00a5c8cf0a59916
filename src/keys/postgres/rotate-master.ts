import { APPLICATION_NAME } from '../../common/postgres/migrations.js';
import { insertRows, type Column } from '../../common/postgres/rows.js';
import { inTransaction } from '../../common/postgres/transaction.js';
import { aad } from '../domain/sealing.js';
import { rewrapped, type MasterKey } from '../master-key.js';
import { keysPool } from './pg-key-store.js';

const REWRAP_BATCH = 5000;
const REWRAPPED_COLUMNS: readonly Column[] = [['tenant', 'text'], ['subject', 'text'], ['category', 'text'], ['generation', 'integer'], ['wrapped', 'bytea']];

export class LedgersRunning extends Error {
  constructor(readonly connections: number) {
    super(`${connections} ledger connection(s) are open on this database: stop every ledger process first (each would keep using the old master key)`);
  }
}

/**
 * Re-wraps every data key and blind-index key of the PostgreSQL key store under `next`, in one
 * transaction (all under the old master or all under the new), with the ledgers stopped: a process still
 * running would go on wrapping new keys with the old master. When the master key is the one kept in
 * the database (`secretsSchema`: no `PDL_MASTER_KEY`), it is replaced in the same transaction. The old
 * wrapped rows are vacuumed away afterwards. Returns how many keys were re-wrapped.
 */
export async function rotatePgMaster(url: string, keysSchema: string, current: MasterKey, next: MasterKey, secretsSchema: string | null): Promise<number> {
  const pool = await keysPool(url, keysSchema, 1);
  try {
    const others = (await pool.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = $1 and pid <> pg_backend_pid()', [APPLICATION_NAME])).rows[0]!.n;
    if (others > 0) throw new LedgersRunning(others);
    const n = await inTransaction(pool, async (c) => {
      await c.query('lock table data_keys, index_keys in exclusive mode');
      const keys = (await c.query<{ tenant: string; subject: string; category: string; generation: number; wrapped: Buffer }>('select tenant, subject, category, generation, wrapped from data_keys')).rows;
      const indexKeys = (await c.query<{ tenant: string; wrapped: Buffer }>('select tenant, wrapped from index_keys')).rows;
      // The new wrappings go to a temporary table in bulk, then one update sets them all (not a round trip per key).
      await c.query('create temporary table rewrapped_keys (tenant text, subject text, category text, generation integer, wrapped bytea) on commit drop');
      for (let at = 0; at < keys.length; at += REWRAP_BATCH) {
        await insertRows(c, 'rewrapped_keys', REWRAPPED_COLUMNS, keys.slice(at, at + REWRAP_BATCH).map((k) =>
          [k.tenant, k.subject, k.category, k.generation, rewrapped(current, next, k.wrapped, aad.dataKey(k.tenant, k.subject, k.category, k.generation))]));
      }
      const updated = await c.query(`update data_keys d set wrapped = r.wrapped, master_id = $1 from rewrapped_keys r
        where d.tenant = r.tenant and d.subject = r.subject and d.category = r.category and d.generation = r.generation`, [next.id]);
      if (updated.rowCount !== keys.length) throw new Error('the data keys changed while they were re-wrapped: nothing was changed');
      for (const k of indexKeys) {
        await c.query('update index_keys set wrapped = $1, master_id = $2 where tenant = $3', [rewrapped(current, next, k.wrapped, aad.indexKey(k.tenant)), next.id, k.tenant]);
      }
      if (secretsSchema) {
        const set = await c.query(`update ${secretsSchema}.secrets set value = $1 where name = 'master-key' and value = $2`, [next.key.toString('hex'), current.key.toString('hex')]);
        if (set.rowCount !== 1) throw new Error('the master key kept in the database is not the current one: nothing was changed');
      }
      return keys.length + indexKeys.length;
    });
    // The rows as wrapped under the old master become dead versions: reclaimed now.
    await pool.query('vacuum data_keys');
    await pool.query('vacuum index_keys');
    return n;
  } finally {
    await pool.end();
  }
}
