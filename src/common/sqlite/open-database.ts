import Database from 'better-sqlite3';

export type Db = Database.Database;

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
  if (options.secureDelete) db.pragma('secure_delete = ON');
  return db;
}
