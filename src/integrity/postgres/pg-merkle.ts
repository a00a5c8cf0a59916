import type pg from 'pg';
import { insertStatement, lookUpEach } from '../../common/postgres/rows.js';
import { leafHash } from '../../ledger/domain/canonical.js';
import type { PgProjection } from '../../ledger/postgres/pg-projection.js';
import { consistencyProof, Frontier, inclusionProof, MissingNode, rootAt, type NodeSource } from '../domain/merkle.js';
import type { CheckpointStore, MerkleTreeReader } from '../integrity.ports.js';
import type { SignedCheckpoint } from '../domain/checkpoint.js';
import { pushTo } from '../../common/kernel/multimap.js';

const ZERO = Buffer.alloc(32);

/**
 * Runs `use` on the stored subtrees of `stream` with one query: which nodes a root, proof or frontier
 * reads depends only on the sizes, never on the hashes, so a first pass records them and a second one
 * runs on what was fetched.
 */
async function withNodes<T>(db: pg.ClientBase | pg.Pool, stream: string, use: (src: NodeSource) => T): Promise<T> {
  const wanted: Array<[number, number]> = [];
  use({ node: (level, index) => { wanted.push([level, index]); return ZERO; } });
  if (wanted.length === 0) return use({ node: () => ZERO });
  const { rows } = await db.query<{ level: number; idx: string; hash: Buffer }>(
    // Each node read by its primary key whatever the statistics say (`lookUpEach`).
    `select m.level, m.idx, m.hash from ${lookUpEach({ l: '$2::int[]', i: '$3::bigint[]' }, 'm', 'select * from merkle_nodes where stream = $1 and level = l and idx = i limit 1')}`,
    [stream, wanted.map(([l]) => l), wanted.map(([, i]) => i)]);
  const found = new Map(rows.map((r) => [`${r.level}/${r.idx}`, r.hash]));
  return use({
    node(level, index) {
      const h = found.get(`${level}/${index}`);
      if (!h) throw new MissingNode(`the Merkle tree of ${stream} has no node at level ${level}, index ${index}`);
      return h;
    },
  });
}

/**
 * The number of leaves of a stream's tree: its last leaf's index, read backwards from the end of the
 * primary key. (As `max(idx)`, the planner of a table without statistics read every leaf: 12 ms at 18,000.)
 */
const treeSize = async (db: pg.ClientBase | pg.Pool, stream: string) =>
  Number((await db.query<{ idx: string }>('select idx from merkle_nodes where stream = $1 and level = 0 order by idx desc limit 1', [stream])).rows[0]?.idx ?? -1) + 1;

/**
 * Every complete subtree of each tenant's tree, stored as it forms (as on SQLite), inside the append.
 * The right edge of each tree this process extended is kept in memory: it is still the tree's when the
 * next append starts where it ended (trees only grow, so another process's appends would have moved it),
 * and forgotten when a transaction fails.
 */
export function pgMerkleProjection(): PgProjection {
  const frontiers = new Map<string, Frontier>();
  return {
    name: 'merkle',
    tables: ['merkle_nodes'],
    reset() {
      frontiers.clear();
    },
    async apply(tx, events, writes) {
      const byStream = new Map<string, typeof events[number][]>();
      for (const e of events) pushTo(byStream, e.recorded.stream, e);
      const rows: Array<[string, number, number, Buffer]> = [];
      for (const [stream, list] of byStream) {
        const kept = frontiers.get(stream);
        const size = kept && kept.size === list[0]!.recorded.revision ? kept.size : await treeSize(tx, stream);
        const frontier = kept && kept.size === size ? kept : await withNodes(tx, stream, (src) => Frontier.at(src, size));
        if (frontiers.size >= 10_000 && !frontiers.has(stream)) frontiers.delete(frontiers.keys().next().value as string);
        frontiers.set(stream, frontier);
        for (const { recorded } of list) {
          if (recorded.revision !== frontier.size) throw new Error(`the Merkle tree of ${stream} has ${frontier.size} leaves; entry ${recorded.revision} cannot be its next`);
          frontier.push(recorded.leafHash ?? leafHash(recorded.data), (level, index, hash) => rows.push([stream, level, index, hash]));
        }
      }
      writes.add(insertStatement('merkle_nodes', [['stream', 'text'], ['level', 'integer'], ['idx', 'bigint'], ['hash', 'bytea']], rows));
    },
  };
}

/** Roots and proofs of a stream's tree at any size it has had, from the stored subtrees. */
export class PgMerkleTree implements MerkleTreeReader {
  constructor(private readonly pool: pg.Pool) {}

  treeSize(stream: string): Promise<number> {
    return treeSize(this.pool, stream);
  }

  async leafHash(stream: string, index: number): Promise<Buffer | null> {
    return (await this.pool.query<{ hash: Buffer }>('select hash from merkle_nodes where stream = $1 and level = 0 and idx = $2', [stream, index])).rows[0]?.hash ?? null;
  }

  async leafHashes(stream: string, from: number, count: number): Promise<Buffer[]> {
    return (await this.pool.query<{ hash: Buffer }>('select hash from merkle_nodes where stream = $1 and level = 0 and idx >= $2 and idx < $3 order by idx', [stream, from, from + count])).rows.map((r) => r.hash);
  }

  root(stream: string, size: number): Promise<Buffer> {
    return withNodes(this.pool, stream, (src) => rootAt(src, size));
  }

  inclusion(stream: string, index: number, size: number): Promise<Buffer[]> {
    return withNodes(this.pool, stream, (src) => inclusionProof(src, index, size));
  }

  consistency(stream: string, from: number, to: number): Promise<Buffer[]> {
    return withNodes(this.pool, stream, (src) => consistencyProof(src, from, to));
  }
}

interface CheckpointRow { tree_size: string; root: Buffer; timestamp: string; origin: string; key_name: string; key_id: Buffer; signature: Buffer; note: string }

/** Signed checkpoints, shared by every ledger process on the database. */
export class PgCheckpointStore implements CheckpointStore {
  constructor(private readonly pool: pg.Pool) {}

  async latest(stream: string): Promise<SignedCheckpoint | null> {
    const r = (await this.pool.query<CheckpointRow>('select * from checkpoints where stream = $1 order by tree_size desc limit 1', [stream])).rows[0];
    return r ? { origin: r.origin, treeSize: Number(r.tree_size), rootHash: r.root, timestamp: r.timestamp, keyName: r.key_name, keyId: r.key_id, signature: r.signature, note: r.note } : null;
  }

  async save(stream: string, c: SignedCheckpoint): Promise<void> {
    await this.pool.query(`insert into checkpoints (stream, tree_size, root, timestamp, origin, key_name, key_id, signature, note) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
      on conflict do nothing`, [stream, c.treeSize, c.rootHash, c.timestamp, c.origin, c.keyName, c.keyId, c.signature, c.note]);
  }
}
