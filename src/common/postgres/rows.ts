import type pg from 'pg';

/** A column of a bulk insert: its name and PostgreSQL type (`jsonb` and `varbit` columns are sent as text). */
export type Column = readonly [name: string, type: 'text' | 'bigint' | 'integer' | 'boolean' | 'bytea' | 'jsonb' | 'varbit'];

/** Column types sent as text and cast where selected: `jsonb` (its JSON), `varbit` (its 0s and 1s). */
const TEXT_SENT: ReadonlySet<Column[1]> = new Set(['jsonb', 'varbit']);

const asBuffer = (v: Uint8Array): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));

/** One SQL statement with its parameters (`$1`, `$2`, … numbered from 1 in `sql`). */
export interface Statement {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/**
 * The statement inserting `rows` (one array of values per row, in `columns` order), whatever their
 * number, or null when there are none: each column travels as one array parameter (`unnest`), so a
 * commit's rows cost one round trip. A `bytea` column travels as one binary parameter, its values end to
 * end, with their offsets and lengths (-1: null): an array of bytea would be sent, and parsed, as
 * hexadecimal text, twice the bytes. `tail` follows the insert (`on conflict …`, `returning …`).
 */
export function insertStatement(table: string, columns: readonly Column[], rows: ReadonlyArray<readonly unknown[]>, tail = ''): Statement | null {
  if (rows.length === 0) return null;
  const params: unknown[] = [];
  const param = (v: unknown) => `$${params.push(v)}`;
  const unnested: string[] = [];
  const aliases: string[] = [];
  const selected = columns.map(([, type], i) => {
    if (type !== 'bytea') {
      const asText = TEXT_SENT.has(type);
      unnested.push(`${param(rows.map((r) => r[i]))}::${asText ? 'text' : type}[]`);
      aliases.push(`c${i}`);
      return asText ? `c${i}::${type}` : `c${i}`;
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
  return { sql: `insert into ${table} (${columns.map(([n]) => n).join(', ')}) select ${selected.join(', ')} from unnest(${unnested.join(', ')}) as t(${aliases.join(', ')}) ${tail}`, params };
}

/** Inserts `rows` in one statement (`insertStatement`). */
export async function insertRows(tx: pg.ClientBase, table: string, columns: readonly Column[], rows: ReadonlyArray<readonly unknown[]>, tail = ''): Promise<pg.QueryResult> {
  const s = insertStatement(table, columns, rows, tail);
  return s ? tx.query(s.sql, s.params as unknown[]) : { rows: [], rowCount: 0, command: 'INSERT', oid: 0, fields: [] };
}

/**
 * Writes gathered during a transaction and sent together, as one statement: each is a data-modifying
 * `with` query of it (PostgreSQL runs every one, to completion, once), so a commit's writes cost one round
 * trip instead of one each. All of them see the database as it was before the statement, never each
 * other's rows: only writes that nothing else reads before the transaction ends belong here, and no two
 * of them may change the same row. A write named `as` can be read by later ones (its `returning` rows).
 */
export class Writes {
  private readonly parts: Array<{ name: string; sql: string; params: readonly unknown[] }> = [];

  add(statement: Statement | null, as?: string): void {
    if (statement) this.parts.push({ name: as ?? `w${this.parts.length}`, ...statement });
  }

  get empty(): boolean {
    return this.parts.length === 0;
  }

  /** Sends what was gathered (nothing when empty), and forgets it. */
  async run(tx: pg.ClientBase): Promise<void> {
    const parts = this.parts.splice(0);
    if (parts.length === 0) return;
    if (parts.length === 1) {
      await tx.query(parts[0]!.sql, parts[0]!.params as unknown[]);
      return;
    }
    const params: unknown[] = [];
    const ctes = parts.map(({ name, sql, params: own }) => {
      const offset = params.length;
      params.push(...own);
      return `${name} as (${sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)})`;
    });
    await tx.query(`with ${ctes.join(', ')} select 1`, params);
  }
}
