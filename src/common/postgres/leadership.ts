import { createHash } from 'node:crypto';
import type pg from 'pg';
import { heard } from './transaction.js';

/**
 * Which process runs a background job among those sharing a database: the one holding the job's
 * session-level advisory lock, on a connection kept for it (its loss releases the lock, and another
 * process takes the job over at its next try).
 */
export class Leadership {
  private readonly held = new Map<string, pg.PoolClient>();

  constructor(private readonly pool: pg.Pool) {}

  private static key(job: string): string {
    return createHash('sha256').update(`pdl/job/${job}`).digest().readBigInt64BE().toString();
  }

  /** Whether this process runs `job` (taking it when nobody does). */
  async leads(job: string): Promise<boolean> {
    if (this.held.has(job)) return true;
    const c = await this.pool.connect();
    const listening = heard(c);
    let won = false;
    try {
      won = (await c.query<{ ok: boolean }>('select pg_try_advisory_lock($1::bigint) as ok', [Leadership.key(job)])).rows[0]!.ok;
    } finally {
      if (!won) {
        c.release();
        listening.done();
      }
    }
    if (!won) return false;
    c.on('error', () => {
      this.held.delete(job);
      c.release(true);
    });
    listening.done();
    this.held.set(job, c);
    return true;
  }

  /** Gives every job up (at shutdown). */
  async release(): Promise<void> {
    for (const [job, c] of this.held) {
      this.held.delete(job);
      await c.query('select pg_advisory_unlock_all()').catch(() => undefined);
      c.release();
    }
  }
}
