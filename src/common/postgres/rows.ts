import type pg from 'pg';

/** A column of a bulk insert: its name and PostgreSQL type (`jsonb` columns are sent as text). */
export type Column = readonly [name: string, type: 'text' | 'bigint' | 'integer' | 'boolean' | 'bytea' | 'jsonb'];

const asBuffer = (v: Uint8Array): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));

/**
 * Inserts `rows` (one array of values per row, in `columns` order) in one statement, whatever their
 * number: each column travels as one array parameter (`unnest`), so a commit's rows cost one round trip.
 * A `bytea` column travels as one binary parameter, its values end to end, with their offsets and lengths
 * (-1: null): an array of bytea would be sent, and parsed, as hexadecimal text, twice the bytes.
 * `tail` follows the insert (`on conflict …`, `returning …`).
 */
export async function insertRows(tx: pg.ClientBase, table: string, columns: readonly Column[], rows: ReadonlyArray<readonly unknown[]>, tail = ''): Promise<pg.QueryResult> {
  if (rows.length === 0) return { rows: [], rowCount: 0, command: 'INSERT', oid: 0, fields: [] };
  const params: unknown[] = [];
  const param = (v: unknown) => `$${params.push(v)}`;
  const unnested: string[] = [];
  const aliases: string[] = [];
  const selected = columns.map(([, type], i) => {
    if (type !== 'bytea') {
      unnested.push(`${param(rows.map((r) => r[i]))}::${type === 'jsonb' ? 'text' : type}[]`);
      aliases.push(`c${i}`);
      return type === 'jsonb' ? `c${i}::jsonb` : `c${i}`;
    }
    const values = rows.map((r) => r[i] as Uint8Array | null | undefined);
    const offsets: number[] = [];
    const lengths: number[] = [];
    let at = 0;
    for (const v of values) {
      offsets.push(at);
      lengths.push(v == null ? -1 : v.byteLength);
      at += v?.byteLength ?? 0;
    }
    const bytes = param(Buffer.concat(values.flatMap((v) => (v == null ? [] : [asBuffer(v)]))));
    unnested.push(`${param(offsets)}::integer[]`, `${param(lengths)}::integer[]`);
    aliases.push(`o${i}`, `l${i}`);
    return `case when l${i} < 0 then null else substring(${bytes}::bytea from o${i} + 1 for l${i}) end`;
  });
  return tx.query(`insert into ${table} (${columns.map(([n]) => n).join(', ')}) select ${selected.join(', ')} from unnest(${unnested.join(', ')}) as t(${aliases.join(', ')}) ${tail}`, params);
}
