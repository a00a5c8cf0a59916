import type { Statement } from 'better-sqlite3';
import type { Db } from '../../common/sqlite/open-database.js';
import { leafHash } from '../../ledger/domain/canonical.js';
import type { SqliteProjection } from '../../ledger/sqlite/sqlite-log-appender.js';
import type { Synchronous } from '../../common/kernel/promised.js';
import type { MerkleTreeReader } from '../integrity.ports.js';
import { consistencyProof, Frontier, inclusionProof, MissingNode, rootAt, type NodeSource } from '../domain/merkle.js';

const SCHEMA = `
create table if not exists merkle_nodes (
  stream text not null, level integer not null, idx integer not null, hash blob not null,
  primary key (stream, level, idx));
`;


function nodesOf(db: Db): (stream: string) => NodeSource {
  const get = db.prepare('select hash from merkle_nodes where stream = ? and level = ? and idx = ?').pluck();
  return (stream) => ({
    node(level, index) {
      const h = get.get(stream, level, index) as Buffer | undefined;
      if (!h) throw new MissingNode(`the Merkle tree of ${stream} has no node at level ${level}, index ${index}`);
      return h;
    },
  });
}

const sizeOf = (stmt: Statement<unknown[]>, stream: string) => ((stmt.get(stream) as number | null) ?? -1) + 1;

/**
 * The per-stream Merkle tree, folded inline into each commit: every complete subtree (level, index)
 * is stored as it forms, so appending costs O(log n) and any root or proof of any earlier size is
 * O(log² n) lookups. The right edge (frontier) of each tree is kept in memory between commits.
 */
export function merkleProjection(db: Db): SqliteProjection {
  db.exec(SCHEMA);
  const insert = db.prepare('insert into merkle_nodes (stream, level, idx, hash) values (?, ?, ?, ?)');
  const size = db.prepare('select max(idx) from merkle_nodes where stream = ? and level = 0').pluck();
  const nodes = nodesOf(db);
  const frontiers = new Map<string, Frontier>();
  const frontier = (stream: string) => {
    let f = frontiers.get(stream);
    if (!f) frontiers.set(stream, (f = Frontier.at(nodes(stream), sizeOf(size, stream))));
    return f;
  };
  const push = (stream: string, revision: number, data: Uint8Array, leaf?: Buffer) => {
    const f = frontier(stream);
    if (revision !== f.size) throw new Error(`the Merkle tree of ${stream} has ${f.size} leaves; entry ${revision} cannot be its next`);
    f.push(leaf ?? leafHash(data), (level, index, hash) => insert.run(stream, level, index, hash));
  };
  return {
    name: 'merkle',
    apply(_tx, events) {
      for (const { recorded } of events) push(recorded.stream, recorded.revision, recorded.data, recorded.leafHash);
    },
    reset() {
      frontiers.clear();
    },
    catchUp(tx) {
      // Trees behind their log (a store from before this projection existed) are completed from the log.
      const streams = tx.prepare('select stream, max(revision) + 1 as n from events group by stream').all() as Array<{ stream: string; n: number }>;
      const page = tx.prepare('select revision, data from events where stream = ? and revision >= ? order by revision limit 1000');
      for (const { stream, n } of streams) {
        tx.transaction(() => {
          for (let from = sizeOf(size, stream); from < n;) {
            const rows = page.all(stream, from) as Array<{ revision: number; data: Buffer }>;
            for (const r of rows) push(stream, r.revision, r.data);
            from = rows.length ? rows[rows.length - 1]!.revision + 1 : n;
          }
        })();
      }
    },
  };
}

/** Roots and proofs of a stream's tree at any size it has had, read from the stored subtrees. */
export class SqliteMerkleTree implements Synchronous<MerkleTreeReader> {
  private readonly nodes: (stream: string) => NodeSource;
  private readonly size;
  private readonly leaf;
  private readonly leaves;

  constructor(db: Db) {
    db.exec(SCHEMA);
    this.nodes = nodesOf(db);
    this.size = db.prepare('select max(idx) from merkle_nodes where stream = ? and level = 0').pluck();
    this.leaf = db.prepare('select hash from merkle_nodes where stream = ? and level = 0 and idx = ?').pluck();
    this.leaves = db.prepare('select hash from merkle_nodes where stream = ? and level = 0 and idx >= ? and idx < ? order by idx').pluck();
  }

  /** Leaves in the stream's tree now. */
  treeSize(stream: string): number {
    return sizeOf(this.size, stream);
  }

  leafHash(stream: string, index: number): Buffer | null {
    return (this.leaf.get(stream, index) as Buffer | undefined) ?? null;
  }

  leafHashes(stream: string, from: number, count: number): Buffer[] {
    return this.leaves.all(stream, from, from + count) as Buffer[];
  }

  root(stream: string, size: number): Buffer {
    return rootAt(this.nodes(stream), size);
  }

  inclusion(stream: string, index: number, size: number): Buffer[] {
    return inclusionProof(this.nodes(stream), index, size);
  }

  consistency(stream: string, from: number, to: number): Buffer[] {
    return consistencyProof(this.nodes(stream), from, to);
  }
}
