import type { Db } from '../../common/sqlite/open-database.js';
import { leafHash } from '../../ledger/domain/canonical.js';
import type { SqliteProjection } from '../../ledger/sqlite/sqlite-log-appender.js';
import type { Synchronous } from '../../common/kernel/promised.js';
import type { MerkleTreeReader } from '../integrity.ports.js';
import { consistencyProof, Frontier, inclusionProof, MissingNode, rootAt, type NodeSource } from '../domain/merkle.js';

/**
 * Every complete subtree of every stream's tree in one table keyed by one integer: the stream's number
 * (`merkle_streams`) times 2^40 plus the node's position in the order the tree creates its nodes (each
 * leaf, then the subtrees it completes). A commit's nodes are then neighbours at the end of the table:
 * a few pages written per commit, where a key of (stream, level, index) touched a page per level.
 * (`merkle_nodes`, that earlier layout, is dropped; the trees are completed again from the log.)
 */
const SCHEMA = `
create table if not exists merkle_streams (id integer primary key, stream text not null unique);
create table if not exists merkle_tree (node integer primary key, hash blob not null);
drop table if exists merkle_nodes;
`;

const POSITION_BITS = 40n;
const popcount32 = (n: number) => {
  let c = 0;
  for (let v = n >>> 0; v; v &= v - 1) c++;
  return c;
};
/** Ones in the binary form of a non-negative safe integer. */
const popcount = (n: number) => popcount32(Math.floor(n / 2 ** 32)) + popcount32(n % 2 ** 32);

/** Position of the subtree (level, index) among the nodes of its tree, in creation order. */
export function nodePosition(level: number, index: number): number {
  const last = (index + 1) * 2 ** level - 1; // the leaf that completes it
  return 2 * last - popcount(last) + level;
}

/** Leaves of a tree made of `nodes` nodes (a tree of n leaves has 2n − popcount(n) of them). */
export function leavesOf(nodes: number): number {
  for (let n = Math.floor(nodes / 2); ; n++) {
    const total = 2 * n - popcount(n);
    if (total === nodes) return n;
    if (total > nodes) throw new MissingNode(`a Merkle tree cannot have ${nodes} nodes: the stored tree is incomplete`);
  }
}

/** The stored trees as one stream's reader sees them; `null` stream number: no tree yet. */
export class MerkleNodes {
  private readonly streamNo;
  private readonly get;
  private readonly last;
  private readonly range;
  private readonly numbers = new Map<string, bigint>();

  constructor(db: Db) {
    this.streamNo = db.prepare('select id from merkle_streams where stream = ?').pluck().safeIntegers(true);
    this.get = db.prepare('select hash from merkle_tree where node = ?').pluck();
    this.last = db.prepare('select max(node) from merkle_tree where node >= ? and node < ?').pluck().safeIntegers(true);
    this.range = db.prepare('select node, hash from merkle_tree where node >= ? and node <= ? order by node').safeIntegers(true);
  }

  /** The stream's number, once it has a tree. */
  number(stream: string): bigint | null {
    const known = this.numbers.get(stream);
    if (known !== undefined) return known;
    const n = (this.streamNo.get(stream) as bigint | undefined) ?? null;
    if (n !== null) this.numbers.set(stream, n);
    return n;
  }

  static key(no: bigint, level: number, index: number): bigint {
    return (no << POSITION_BITS) + BigInt(nodePosition(level, index));
  }

  node(stream: string, level: number, index: number): Buffer | undefined {
    const no = this.number(stream);
    return no === null ? undefined : (this.get.get(MerkleNodes.key(no, level, index)) as Buffer | undefined);
  }

  /** Leaves in the stream's tree. */
  size(stream: string): number {
    const no = this.number(stream);
    if (no === null) return 0;
    const base = no << POSITION_BITS;
    const last = this.last.get(base, base + (1n << POSITION_BITS)) as bigint | null;
    return last === null ? 0 : leavesOf(Number(last - base) + 1);
  }

  /** The leaf hashes of `from` … `from + count − 1` (as many as are stored). */
  leaves(stream: string, from: number, count: number): Buffer[] {
    return [...this.leafMap(stream, from, count).values()];
  }

  /**
   * The stored leaf hashes of `from` … `from + count − 1`, by leaf index, in one ordered read of the range
   * of nodes they lie in (among the subtrees they complete): a look-up per leaf costs ~25 µs each, cold.
   */
  leafMap(stream: string, from: number, count: number): Map<number, Buffer> {
    const out = new Map<number, Buffer>();
    const no = this.number(stream);
    if (no === null || count <= 0) return out;
    const wanted = new Map<bigint, number>();
    for (let i = from; i < from + count; i++) wanted.set(MerkleNodes.key(no, 0, i), i);
    for (const r of this.range.all(MerkleNodes.key(no, 0, from), MerkleNodes.key(no, 0, from + count - 1)) as Array<{ node: bigint; hash: Buffer }>) {
      const i = wanted.get(r.node);
      if (i !== undefined) out.set(i, r.hash);
    }
    return out;
  }

  source(stream: string): NodeSource {
    return {
      node: (level, index) => {
        const h = this.node(stream, level, index);
        if (!h) throw new MissingNode(`the Merkle tree of ${stream} has no node at level ${level}, index ${index}`);
        return h;
      },
    };
  }
}

/**
 * The per-stream Merkle tree, folded inline into each commit: every complete subtree (level, index)
 * is stored as it forms, so appending costs O(log n) and any root or proof of any earlier size is
 * O(log² n) lookups. The right edge (frontier) of each tree is kept in memory between commits.
 */
export function merkleProjection(db: Db): SqliteProjection {
  db.exec(SCHEMA);
  const insert = db.prepare('insert into merkle_tree (node, hash) values (?, ?)');
  const addStream = db.prepare('insert into merkle_streams (stream) values (?) returning id').pluck().safeIntegers(true);
  const nodes = new MerkleNodes(db);
  const frontiers = new Map<string, { no: bigint; f: Frontier }>();
  const frontier = (stream: string) => {
    let t = frontiers.get(stream);
    if (!t) {
      const no = nodes.number(stream) ?? (addStream.get(stream) as bigint);
      frontiers.set(stream, (t = { no, f: Frontier.at(nodes.source(stream), nodes.size(stream)) }));
    }
    return t;
  };
  const push = (stream: string, revision: number, data: Uint8Array, leaf?: Buffer) => {
    const { no, f } = frontier(stream);
    if (revision !== f.size) throw new Error(`the Merkle tree of ${stream} has ${f.size} leaves; entry ${revision} cannot be its next`);
    f.push(leaf ?? leafHash(data), (level, index, hash) => insert.run(MerkleNodes.key(no, level, index), hash));
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
      // Each stream and its size found by seeks in the (stream, revision) index, a few per stream, instead
      // of a group by that reads the whole index: this runs at every start, on logs of any length.
      const streams = tx.prepare(`with recursive s(stream) as (select min(stream) from events
          union all select (select min(e.stream) from events e where e.stream > s.stream) from s where s.stream is not null)
        select stream, (select max(e.revision) from events e where e.stream = s.stream) + 1 as n from s where stream is not null`).all() as Array<{ stream: string; n: number }>;
      const page = tx.prepare('select revision, data from events where stream = ? and revision >= ? order by revision limit 1000');
      for (const { stream, n } of streams) {
        tx.transaction(() => {
          for (let from = nodes.size(stream); from < n;) {
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
  private readonly nodes: MerkleNodes;

  constructor(db: Db) {
    db.exec(SCHEMA);
    this.nodes = new MerkleNodes(db);
  }

  /** Leaves in the stream's tree now. */
  treeSize(stream: string): number {
    return this.nodes.size(stream);
  }

  leafHash(stream: string, index: number): Buffer | null {
    return this.nodes.node(stream, 0, index) ?? null;
  }

  leafHashes(stream: string, from: number, count: number): Buffer[] {
    return this.nodes.leaves(stream, from, count);
  }

  root(stream: string, size: number): Buffer {
    return rootAt(this.nodes.source(stream), size);
  }

  inclusion(stream: string, index: number, size: number): Buffer[] {
    return inclusionProof(this.nodes.source(stream), index, size);
  }

  consistency(stream: string, from: number, to: number): Buffer[] {
    return consistencyProof(this.nodes.source(stream), from, to);
  }
}
