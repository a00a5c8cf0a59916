import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** The real PostgreSQL of this machine (`.ci/run` starts it when it is down); `PDL_POSTGRES_URL` points elsewhere. */
export const PG_URL = process.env.PDL_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A database of its own for one ledger (its schemas have fixed names), dropped afterwards. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `pdl_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** The stores the end-to-end scenario runs on, and the environment that starts the ledger on each. */
export const STORES = ['sqlite', 'postgres'] as const;
export type StoreName = (typeof STORES)[number];

export async function storeEnv(store: StoreName): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (store === 'sqlite') return { env: {}, drop: async () => undefined };
  const db = await freshDatabase();
  return { env: { PDL_STORE: 'postgres', PDL_POSTGRES_URL: db.url }, drop: db.drop };
}
