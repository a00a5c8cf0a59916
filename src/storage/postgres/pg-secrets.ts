import { randomBytes } from 'node:crypto';
import { migratedPool, type Migration } from '../../common/postgres/migrations.js';

const MIGRATIONS: readonly Migration[] = [{ version: 1, sql: 'create table if not exists secrets (name text primary key, value text not null, created_at timestamptz not null default now())' }];
const LOCK = 0x70646c03;

/**
 * The secrets every ledger process on one database must share when the environment does not give them
 * (`PDL_MASTER_KEY`, `PDL_SIGNING_KEY`): created by the first process to start, in a schema of their
 * own. Like the embedded store's key files beside its data, convenient and no safer than the database's
 * backups: in production give both through the environment (a secret manager), and these are not used.
 */
export const SECRETS_SCHEMA = 'pdl_secrets';

export async function sharedSecrets(connectionString: string, schema = SECRETS_SCHEMA): Promise<{ masterKey: string; signingSeed: string }> {
  const pool = await migratedPool(connectionString, schema, 'secrets', LOCK, MIGRATIONS, 1);
  try {
    const get = async (name: string) => {
      await pool.query('insert into secrets (name, value) values ($1, $2) on conflict (name) do nothing', [name, randomBytes(32).toString('hex')]);
      return (await pool.query<{ value: string }>('select value from secrets where name = $1', [name])).rows[0]!.value;
    };
    return { masterKey: await get('master-key'), signingSeed: await get('signing-seed') };
  } finally {
    await pool.end();
  }
}
