import type pg from 'pg';

/** `work` in one transaction on `client`: committed when it resolves, rolled back when it throws. */
export async function transaction<T>(client: pg.ClientBase, work: (c: pg.ClientBase) => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    const out = await work(client);
    await client.query('commit');
    return out;
  } catch (e) {
    await client.query('rollback').catch(() => undefined);
    throw e;
  }
}

/** `transaction` on a connection of `pool`, given back afterwards. */
export async function inTransaction<T>(pool: pg.Pool, work: (c: pg.ClientBase) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await transaction(client, work);
  } finally {
    client.release();
  }
}
