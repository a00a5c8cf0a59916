import type Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../common/sqlite/open-database.js';
import { ensureFoldSchema, foldLog } from '../ledger/sqlite/sqlite-log-appender.js';
import { apartProjections } from './embedded-projections.js';
import { BEAT, CANCEL, removeDatabase, type ApartResult } from './rebuild-apart.js';

/**
 * The rebuild's worker (see `rebuildApart`): folds the log of `ledger.db` (attached, only read) into the
 * compliance engine's read models in a file of their own, resuming where an earlier fold of the same
 * rebuild stopped; then says so to its supervisor (`rebuild-supervisor.ts`), which wakes the appender's thread.
 */
const { ledgerFile, file, head, version, batches, state } = workerData as {
  ledgerFile: string; file: string; head: bigint; version: number; batches: { batchSize: number; commitEvery: number }; state: Int32Array;
};

/** Each batch: a beat for the appender's thread, which may have asked it to stop (its own fold failed). */
function beat(): void {
  Atomics.add(state, BEAT, 1);
  if (Atomics.load(state, CANCEL) === 1) throw new Error('stopped: the rest of the rebuild failed');
}

/** The fold's progress in `file`: the last global position folded, or null when it holds another version's (or nothing). */
function progress(db: Database.Database): bigint | null {
  const row = db.prepare('select version, rebuilt_through as through from read_models where id = 1').safeIntegers(true).get() as { version: bigint; through: bigint | null } | undefined;
  return row && Number(row.version) === version && row.through !== null ? row.through : null;
}

/** The file, and where its fold stopped: anew when it holds another version's, or cannot be read (then it is of no use). */
function openFold(): { db: Database.Database; from: bigint } {
  let found: Database.Database | null = null;
  try {
    found = openDatabase(file);
    ensureFoldSchema(found);
    const from = progress(found);
    if (from !== null) return { db: found, from };
  } catch {
    // Not a database, or not one of ours: made again below.
  }
  found?.close();
  removeDatabase(file);
  const db = openDatabase(file);
  ensureFoldSchema(db);
  db.prepare('insert into read_models (id, version, rebuilt_through) values (1, ?, -1)').run(version);
  return { db, from: -1n };
}

let result: ApartResult = { ok: true };
try {
  const { db, from } = openFold();
  // The log, read where it is (never written here): the judge reads entries of it too (a tenant's residency).
  db.prepare('attach database ? as log').run(ledgerFile);
  db.exec('create temp view events as select * from log.events');
  try {
    const projections = apartProjections(db);
    if (from < head) foldLog(db, db, projections, from, { ...batches, onProgress: beat });
    db.exec('detach database log');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
} catch (e) {
  // SQLite's and the ledger's own messages: no personal data.
  result = { ok: false, error: e instanceof Error ? e.message : String(e) };
} finally {
  parentPort!.postMessage(result);
}
