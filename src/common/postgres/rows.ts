import type pg from 'pg';

/** A column of a bulk insert: its name and PostgreSQL type (`jsonb` columns are sent as text). */
export type Column = readonly [name: string, type: 'text' | 'bigint' | 'integer' | 'boolean' | 'bytea' | 'jsonb'];

/**
 * Inserts `rows` (one array of values per row, in `columns` order) in one statement, whatever their
 * number: each column travels as one array parameter (`unnest`), so a commit's rows cost one round trip.
 * `tail` follows the insert (`on conflict …`, `returning …`).
 */
export async function insertRows(tx: pg.ClientBase, table: string, columns: readonly Column[], rows: ReadonlyArray<readonly unknown[]>, tail = ''): Promise<pg.QueryResult> {
  if (rows.length === 0) return { rows: [], rowCount: 0, command: 'INSERT', oid: 0, fields: [] };
  const arrays = columns.map((_, i) => rows.map((r) => r[i]));
  const unnested = columns.map(([, type], i) => `$${i + 1}::${type === 'jsonb' ? 'text' : type}[]`).join(', ');
  const selected = columns.map(([, type], i) => (type === 'jsonb' ? `c${i}::jsonb` : `c${i}`)).join(', ');
  const aliases = columns.map((_, i) => `c${i}`).join(', ');
  return tx.query(`insert into ${table} (${columns.map(([n]) => n).join(', ')}) select ${selected} from unnest(${unnested}) as t(${aliases}) ${tail}`, arrays);
}
