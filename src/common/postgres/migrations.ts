import pg from 'pg';
import { heard, transaction } from './transaction.js';

export interface Migration {
  readonly version: number;
  readonly sql: string;
}

/** bigint columns (log positions, sizes, ids) read as numbers: they stay far below 2^53. */
const INT8 = 20;
const types = { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8 ? Number : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser };

/** What every ledger connection calls itself (`pg_stat_activity.application_name`): tools that need the ledgers stopped look for it. */
export const APPLICATION_NAME = 'pdl';

/** How long to wait for a connection when the URL does not say (libpq's `connect_timeout`, in seconds). */
export const DEFAULT_CONNECT_TIMEOUT_S = 10;

/**
 * The wait for a connection, and for a free one of a busy pool: the URL's `connect_timeout` (seconds, as
 * libpq reads it; `pg` parses it but does not apply it), else `DEFAULT_CONNECT_TIMEOUT_S`. Without one, a
 * server that stopped answering without refusing (a network partition) held every request until the
 * system's TCP time-out, about two minutes; now it is answered 503 once the wait is over.
 */
export function connectTimeoutMs(connectionString: string): number {
  let given: string | null = null;
  try {
    given = new URL(connectionString).searchParams.get('connect_timeout');
  } catch {
    // Not a URL: pg's own parser says what is wrong with it.
  }
  const seconds = given !== null && /^\d{1,6}$/.test(given) ? Number(given) : DEFAULT_CONNECT_TIMEOUT_S;
  // libpq: 0 waits for ever, and less than 2 seconds counts as 2.
  return seconds === 0 ? 0 : Math.max(2, seconds) * 1000;
}

/**
 * How long PostgreSQL lets a ledger's transaction wait for its next statement before it ends the session,
 * unless the URL's `options` set `idle_in_transaction_session_timeout`. A ledger process that stops
 * answering inside an append (stopped, paused, cut off by the network) holds the append lock of every
 * process sharing the database: without it, they all waited until the server's TCP keep-alive gave up on
 * the lost client, two hours and more. Nothing the ledger does waits this long between two statements of
 * a transaction (a rebuild's longest pause is a batch's folding, well under a second).
 */
export const IDLE_IN_TRANSACTION_MS = 30_000;

/**
 * What a pool's connections are opened with: the URL without its `options` parameter, and the server
 * options, the URL's own (libpq's `options`, e.g. `-c statement_timeout=5s`) followed by the schema's search
 * path and, unless given, `IDLE_IN_TRANSACTION_MS`. pg lets a URL's `options` replace the pool's: such a URL
 * dropped the search path, and the ledger's tables and its keys were created together in `public`.
 */
export function sessionOf(connectionString: string, schema: string): { connectionString: string; options: string } {
  let url: URL | null = null;
  try {
    url = new URL(connectionString);
  } catch {
    // Not a URL: pg's own parser reads it (and says what is wrong with it).
  }
  const given = url?.searchParams.get('options') ?? null;
  // Taken out even when empty: `?options=` alone replaced the pool's options too.
  url?.searchParams.delete('options');
  const options = [given, `-c search_path=${schema}`];
  if (!/\bidle_in_transaction_session_timeout\b/.test(given ?? '')) options.push(`-c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_MS}`);
  return { connectionString: given !== null ? url!.toString() : connectionString, options: options.filter(Boolean).join(' ') };
}

/** A pool whose connections work in `schema` (created by `migrate`). */
export function schemaPool(connectionString: string, schema: string, max: number): pg.Pool {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error('the PostgreSQL schema name must be lowercase letters, digits and _');
  const pool = new pg.Pool({ ...sessionOf(connectionString, schema), max, types, application_name: APPLICATION_NAME, connectionTimeoutMillis: connectTimeoutMs(connectionString) });
  // A connection that breaks while idle (the server restarted, or ended it) is dropped by the pool, which
  // opens another when next needed; unheard, the pool's 'error' would stop the process.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Creates `schema` and applies the migrations of `component` in order (those not recorded in the schema's
 * `pdl_migrations` yet), under an advisory lock so that ledgers starting together apply each one once.
 */
export async function migrate(pool: pg.Pool, schema: string, component: string, lock: number, migrations: readonly Migration[]): Promise<void> {
  const client = await pool.connect().catch((e: unknown) => {
    // Where it tried, never with the password.
    const o = pool.options as { host?: string; port?: number; database?: string; connectionString?: string };
    const url = o.connectionString ? new URL(o.connectionString) : null;
    const where = url ? `${url.hostname}:${url.port || 5432}${url.pathname}` : `${o.host ?? 'localhost'}:${o.port ?? 5432}/${o.database ?? ''}`;
    throw new Error(`PostgreSQL at ${where} (PDL_POSTGRES_URL) cannot be reached: ${e instanceof Error ? e.message : String(e)}`);
  });
  const listening = heard(client);
  try {
    await transaction(client, async (c) => {
      await c.query('select pg_advisory_xact_lock($1)', [lock]);
      // Created only when missing: `create schema if not exists` asks for CREATE on the database even when the
      // schema exists, and a deployment may give the ledger's user schemas made for it and nothing more.
      const exists = (await c.query('select 1 from pg_namespace where nspname = $1', [schema])).rowCount! > 0;
      if (!exists) {
        await c.query(`create schema ${schema}`).catch((e: unknown) => {
          if ((e as { code?: unknown }).code !== '42501') throw e;
          throw new Error(`PostgreSQL refused to create the schema ${schema} (${(e as Error).message}): grant the ledger's user CREATE on the database, or create the schema for it, owned by it`);
        });
      }
      await c.query('create table if not exists pdl_migrations (component text not null, version integer not null, applied_at timestamptz not null default now(), primary key (component, version))');
      const done = new Set((await c.query<{ version: number }>('select version from pdl_migrations where component = $1', [component])).rows.map((r) => r.version));
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await c.query(m.sql);
        await c.query('insert into pdl_migrations (component, version) values ($1, $2)', [component, m.version]);
      }
    });
  } finally {
    client.release();
    listening.done();
  }
}

/** `schemaPool` with the migrations of `component` applied. */
export async function migratedPool(connectionString: string, schema: string, component: string, lock: number, migrations: readonly Migration[], max: number): Promise<pg.Pool> {
  const pool = schemaPool(connectionString, schema, max);
  try {
    await migrate(pool, schema, component, lock, migrations);
  } catch (e) {
    await pool.end();
    throw e;
  }
  return pool;
}
