import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * Makes this process the only one serving a data directory: an exclusive SQLite lock on `<dir>/owner.lock`,
 * held until `release` or until the process ends (the operating system drops it, even after kill -9).
 * Two ledgers on one embedded store would each keep their own recent event ids and pipeline state.
 */
export function lockDataDir(dataDir: string): { release(): void } {
  const db = new Database(join(dataDir, 'owner.lock'), { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('create table if not exists owner (id integer primary key)');
    db.exec('begin exclusive');
  } catch (e) {
    db.close();
    // (not `instanceof Error`: the driver's errors may come from another realm)
    if (/locked|busy/i.test(String((e as { message?: unknown }).message))) throw new Error(`another ledger process is already serving the data directory ${dataDir}`);
    throw e;
  }
  return { release: () => { if (db.open) { db.exec('rollback'); db.close(); } } };
}
