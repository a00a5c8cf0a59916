import Database from 'better-sqlite3';

export type Db = Database.Database;

/**
 * Page cache of each connection, in KiB: SQLite's own default. better-sqlite3 is built with 16 MB a
 * connection, and the embedded store opens seven of them (readers here, writers on the storage thread),
 * which cost the ingesting process ~40 MB of resident memory for no measurable speed: the operating
 * system caches the files' pages anyway.
 */
export const CACHE_KIB = 2000;

/**
 * Opens a SQLite file for durable writes: WAL with `synchronous = FULL`, so a committed transaction
 * survives a crash or power loss; `secure_delete` so deleted rows (destroyed keys) leave no bytes.
 */
export function openDatabase(file: string, options: { secureDelete?: boolean } = {}): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${CACHE_KIB}`);
  if (options.secureDelete) db.pragma('secure_delete = ON');
  return db;
}
