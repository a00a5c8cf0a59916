import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openDatabase } from '../../common/sqlite/open-database.js';
import { aad } from '../domain/sealing.js';
import { fingerprint, parse, rewrapped, type MasterKey } from '../master-key.js';
import { ensureKeySchema } from './sqlite-key-writer.js';

/** Flushes a file, or a directory's entries, to disk. */
function fsyncPath(path: string) {
  const fd = openSync(path, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

/** Writes a file and flushes it, and the directory entry naming it. */
function writeDurably(file: string, text: string) {
  writeFileSync(file, text, { mode: 0o600 });
  fsyncPath(file);
  fsyncPath(dirname(file));
}

/**
 * Re-wraps every data key and blind-index key of `keys.db` under `next`, in one transaction (a crash
 * leaves all under the old master or all under the new). With the key file (no `PDL_MASTER_KEY`), the
 * new master is written to `master.key.next` first and moved over `master.key` after the commit; a
 * rotation stopped between the two is finished by `finishMasterRotation` at the next start.
 * Returns how many keys were re-wrapped.
 */
export function rotateMaster(dataDir: string, current: MasterKey, next: MasterKey, keyFile: boolean): number {
  const nextFile = join(dataDir, 'master.key.next');
  if (keyFile) writeDurably(nextFile, `${next.key.toString('base64')}\n`);
  const db = openDatabase(join(dataDir, 'keys.db'), { secureDelete: true });
  let n = 0;
  try {
    ensureKeySchema(db);
    const rows = db.prepare('select tenant, subject, category, generation, wrapped from data_keys').all() as Array<{ tenant: string; subject: string; category: string; generation: number; wrapped: Buffer }>;
    const indexRows = db.prepare('select tenant, wrapped from index_keys').all() as Array<{ tenant: string; wrapped: Buffer }>;
    const setKey = db.prepare('update data_keys set wrapped = ?, master_id = ? where tenant = ? and subject = ? and category = ? and generation = ?');
    const setIndex = db.prepare('update index_keys set wrapped = ?, master_id = ? where tenant = ?');
    db.transaction(() => {
      for (const r of rows) setKey.run(rewrapped(current, next, r.wrapped, aad.dataKey(r.tenant, r.subject, r.category, r.generation)), next.id, r.tenant, r.subject, r.category, r.generation);
      for (const r of indexRows) setIndex.run(rewrapped(current, next, r.wrapped, aad.indexKey(r.tenant)), next.id, r.tenant);
    })();
    n = rows.length + indexRows.length;
    db.pragma('wal_checkpoint(TRUNCATE)');
  } catch (e) {
    if (keyFile) rmSync(nextFile, { force: true });
    throw e;
  } finally {
    db.close();
  }
  if (keyFile) {
    renameSync(nextFile, join(dataDir, 'master.key'));
    fsyncPath(dataDir);
  }
  return n;
}

/** A rotation that stopped after its commit: the keys are under `master.key.next`, which becomes the master key. */
export function finishMasterRotation(dataDir: string): void {
  const nextFile = join(dataDir, 'master.key.next');
  if (!existsSync(nextFile) || !existsSync(join(dataDir, 'keys.db'))) return;
  const db = openDatabase(join(dataDir, 'keys.db'));
  try {
    const ids = db.prepare('select distinct master_id from data_keys union select distinct master_id from index_keys').pluck().all() as string[];
    const next = parse(readFileSync(nextFile, 'utf8'));
    if (next && ids.length > 0 && ids.every((id) => id === fingerprint(next))) renameSync(nextFile, join(dataDir, 'master.key'));
    else rmSync(nextFile, { force: true });
  } finally {
    db.close();
  }
}
