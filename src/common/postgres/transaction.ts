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

/**
 * Keeps a checked-out connection's 'error' event heard until `done` is called. A pg client whose connection
 * breaks while it is out of its pool (PostgreSQL restarting, the network failing, the server ending the
 * session) emits 'error' besides failing its queries; unheard, that event ended the process — the storage
 * worker, and with it the server — instead of failing the one append or read (answered 503). The pool
 * itself listens only to its idle connections.
 */
export function heard(client: pg.PoolClient): { done(): void } {
  const ignore = () => undefined;
  client.on('error', ignore);
  return { done: () => client.removeListener('error', ignore) };
}

/** `work` on a connection of `pool`, given back afterwards (dropped by the pool if it broke). */
export async function withConnection<T>(pool: pg.Pool, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const listening = heard(client);
  try {
    return await work(client);
  } finally {
    client.release();
    listening.done();
  }
}

/** `transaction` on a connection of `pool`, given back afterwards. */
export function inTransaction<T>(pool: pg.Pool, work: (c: pg.ClientBase) => Promise<T>): Promise<T> {
  return withConnection(pool, (client) => transaction(client, work));
}
