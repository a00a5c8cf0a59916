import pg from 'pg';

export interface Migration {
  readonly version: number;
  readonly sql: string;
}

/**
 * A pool on `schema` of the database, with the schema created and its migrations applied in order (those
 * not recorded in its `pdl_migrations` yet), under an advisory lock so that ledgers starting together
 * apply each one once.
 */
export async function migratedPool(connectionString: string, schema: string, lock: number, migrations: readonly Migration[], max: number): Promise<pg.Pool> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error('the PostgreSQL schema name must be lowercase letters, digits and _');
  const pool = new pg.Pool({ connectionString, max, options: `-c search_path=${schema}` });
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock($1)', [lock]);
    await client.query(`create schema if not exists ${schema}`);
    await client.query('create table if not exists pdl_migrations (version integer primary key, applied_at timestamptz not null default now())');
    const done = new Set((await client.query<{ version: number }>('select version from pdl_migrations')).rows.map((r) => r.version));
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('insert into pdl_migrations (version) values ($1)', [m.version]);
    }
    await client.query('commit');
  } catch (e) {
    await client.query('rollback').catch(() => undefined);
    client.release();
    await pool.end();
    throw e;
  }
  client.release();
  return pool;
}
