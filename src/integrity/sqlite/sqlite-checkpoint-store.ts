import type { Db } from '../../common/sqlite/open-database.js';
import type { SignedCheckpoint } from '../domain/checkpoint.js';
import type { CheckpointStore } from '../integrity.ports.js';
import type { Synchronous } from '../../common/kernel/promised.js';

const SCHEMA = `
create table if not exists checkpoints (
  stream text not null, tree_size integer not null, root blob not null, timestamp text not null, origin text not null,
  key_name text not null, key_id blob not null, signature blob not null, note text not null,
  primary key (stream, tree_size));
`;

interface Row { tree_size: number; root: Buffer; timestamp: string; origin: string; key_name: string; key_id: Buffer; signature: Buffer; note: string }

/**
 * Signed checkpoints, in their own file (`checkpoints.db`), written by the thread that signs them, with
 * `synchronous = NORMAL`: a checkpoint only ever covers entries already durable in the log, so losing the
 * newest ones in a power cut loses no fact, and the next is checked against the last one kept.
 */
export class SqliteCheckpointStore implements Synchronous<CheckpointStore> {
  private readonly stmt;

  constructor(private readonly db: Db) {
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    this.stmt = {
      latest: db.prepare('select * from checkpoints where stream = ? order by tree_size desc limit 1'),
      insert: db.prepare(`insert or ignore into checkpoints (stream, tree_size, root, timestamp, origin, key_name, key_id, signature, note)
        values (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    };
  }

  latest(stream: string): SignedCheckpoint | null {
    const r = this.stmt.latest.get(stream) as Row | undefined;
    return r ? { origin: r.origin, treeSize: r.tree_size, rootHash: r.root, timestamp: r.timestamp, keyName: r.key_name, keyId: r.key_id, signature: r.signature, note: r.note } : null;
  }

  save(stream: string, c: SignedCheckpoint): void {
    this.stmt.insert.run(stream, c.treeSize, c.rootHash, c.timestamp, c.origin, c.keyName, c.keyId, c.signature, c.note);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
