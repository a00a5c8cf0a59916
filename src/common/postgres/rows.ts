import type pg from 'pg';

/**
 * A column of a bulk insert: its name and PostgreSQL type. `varbit` values are sent as text (their 0s and
 * 1s); `jsonb` values, and `json` ones (a `text` column holding JSON documents), as JSON texts.
 */
export type Column = readonly [name: string, type: 'text' | 'bigint' | 'integer' | 'boolean' | 'bytea' | 'jsonb' | 'json' | 'varbit'];

const asBuffer = (v: Uint8Array): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));

const NEEDS_ESCAPE = /["\\]/;

/**
 * `values` as the text of a PostgreSQL array (`{"a","b\"c",NULL,3}` for `a`, `b"c`, null, 3), for a
 * parameter cast to an array type: what `pg` would send for the array itself, written here in one pass.
 * (`pg` escapes and quotes every element, numbers too, with two regular-expression replaces and a string
 * concatenation each: with a commit's rows in such arrays, a third of what the append worker allocated
 * on PostgreSQL.) Elements are strings, numbers, bigints, booleans or null; strings are quoted, and only
 * `"` and backslash escaped (inside quotes PostgreSQL takes any other character as it is).
 */
export function arrayLiteral(values: readonly unknown[]): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) parts[i] = 'NULL';
    else if (typeof v === 'string') parts[i] = `"${NEEDS_ESCAPE.test(v) ? v.replace(/["\\]/g, '\\$&') : v}"`;
    else if (typeof v === 'number' || typeof v === 'bigint') parts[i] = String(v);
    else if (typeof v === 'boolean') parts[i] = v ? 't' : 'f';
    else throw new TypeError(`an array parameter holds a ${typeof v}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * A `from` clause of the rows `select` finds for each key, named `as`. `keys` names each part of a key
 * and the array (a parameter, cast to its array type) holding it: `{ k: '$2::text[]' }`, and `select`
 * reads `k`. Each key is looked up on its own (a nested loop, the `select` run once a key; `offset 0` keeps
 * PostgreSQL from folding it into a join), so that an index on the key is used whatever the statistics
 * say: written `… = any(keys)` or as a join, the planner of a table never analysed (a new ledger; a
 * server without autovacuum) can read every row of a tenant to keep the few asked for.
 */
export function lookUpEach(keys: Readonly<Record<string, string>>, as: string, select: string): string {
  return `unnest(${Object.values(keys).join(', ')}) as keys(${Object.keys(keys).join(', ')}) cross join lateral (${select} offset 0) ${as}`;
}

/** One SQL statement with its parameters (`$1`, `$2`, … numbered from 1 in `sql`). */
export interface Statement {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/**
 * The statement inserting `rows` (one array of values per row, in `columns` order), whatever their
 * number, or null when there are none: each column travels as one parameter, unpacked row by row in
 * step with the others (`rows from`), so a commit's rows cost one round trip. Most columns travel as an
 * array (`arrayLiteral`). A `bytea` column travels as one binary parameter, its values end to end, with
 * their offsets and lengths (-1: null): an array of bytea would be sent, and parsed, as hexadecimal text,
 * twice the bytes. A `json` or `jsonb` column (values: JSON texts, or null) travels as one JSON array of
 * its documents put end to end, not escaped again inside an array's text. `tail` follows the insert
 * (`on conflict …`, `returning …`).
 */
export function insertStatement(table: string, columns: readonly Column[], rows: ReadonlyArray<readonly unknown[]>, tail = ''): Statement | null {
  if (rows.length === 0) return null;
  const params: unknown[] = [];
  const param = (v: unknown) => `$${params.push(v)}`;
  const unpacked: string[] = [];
  const aliases: string[] = [];
  const selected = columns.map(([, type], i) => {
    if (type === 'json' || type === 'jsonb') {
      const docs = rows.map((r) => {
        const v = r[i];
        if (v !== null && v !== undefined && typeof v !== 'string') throw new TypeError(`a ${type} column is given a ${typeof v}, not a JSON text`);
        return v ?? 'null';
      });
      unpacked.push(`json_array_elements(${param(`[${docs.join(',')}]`)}::json)`);
      aliases.push(`c${i}`);
      return `case when json_typeof(c${i}) = 'null' then null else c${i}::${type === 'json' ? 'text' : 'jsonb'} end`;
    }
    if (type !== 'bytea') {
      const asText = type === 'varbit';
      unpacked.push(`unnest(${param(arrayLiteral(rows.map((r) => r[i])))}::${asText ? 'text' : type}[])`);
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
    unpacked.push(`unnest(${param(arrayLiteral(offsets))}::integer[])`, `unnest(${param(arrayLiteral(lengths))}::integer[])`);
    aliases.push(`o${i}`, `l${i}`);
    return `case when l${i} < 0 then null else substring(${bytes}::bytea from o${i} + 1 for l${i}) end`;
  });
  return { sql: `insert into ${table} (${columns.map(([n]) => n).join(', ')}) select ${selected.join(', ')} from rows from (${unpacked.join(', ')}) as t(${aliases.join(', ')}) ${tail}`, params };
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
