import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { consistencyProof, Frontier, inclusionProof, MemoryTree, nodeHash, verifyConsistency, verifyInclusion } from '../../src/integrity/domain/merkle.js';
import { leafHash } from '../../src/ledger/domain/canonical.js';
import { leavesOf, nodePosition } from '../../src/integrity/sqlite/sqlite-merkle.js';

const VECTORS = join(import.meta.dirname, '..', 'fixtures', 'rfc9162');
const b64 = (s: string) => Buffer.from(s, 'base64');
const vectors = (kind: string) => (readdirSync(join(VECTORS, kind), { recursive: true }) as string[])
  .filter((f) => f.endsWith('.json')).sort()
  .map((f) => ({ name: f, v: JSON.parse(readFileSync(join(VECTORS, kind, f), 'utf8')) }));

// The reference tree of the vectors (transparency-dev/merkle testonly/constants.go).
const INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => Buffer.from(h, 'hex'));
const ROOTS = ['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125', 'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7', '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef', 'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'];

const treeOf = (leaves: Buffer[]) => { const t = new MemoryTree(); for (const l of leaves) t.push(l); return t; };
const flip = (b: Buffer, bit: number) => { const c = Buffer.from(b); c[Math.floor(bit / 8) % c.length]! ^= 1 << (bit % 8); return c; };

/** The RFC's recursive definition, as the oracle. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0]!;
  let k = 1; while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

describe('RFC 9162 Merkle tree', () => {
  it('gives the reference roots of the vectors\' tree for every size 0..8', () => {
    const t = new MemoryTree();
    expect(t.root().toString('hex')).toBe(ROOTS[0]);
    INPUTS.forEach((input, i) => { t.push(leafHash(input)); expect(t.root().toString('hex')).toBe(ROOTS[i + 1]); });
  });

  describe.each(vectors('inclusion'))('inclusion vector $name', ({ v }) => {
    it(v.wantErr ? 'is refused' : 'verifies, and our proof is the same', () => {
      const ok = verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), (v.proof ?? []).map(b64), b64(v.root));
      expect(ok).toBe(!v.wantErr);
      if (!v.wantErr && v.treeSize <= 8) {
        const t = treeOf(INPUTS.slice(0, v.treeSize).map((x) => leafHash(x)));
        expect(inclusionProof(t, v.leafIdx, v.treeSize).map((p) => p.toString('base64'))).toEqual(v.proof ?? []);
      }
    });
  });

  describe.each(vectors('consistency'))('consistency vector $name', ({ v }) => {
    it(v.wantErr ? 'is refused' : 'verifies, and our proof is the same', () => {
      const ok = verifyConsistency(v.size1, v.size2, (v.proof ?? []).map(b64), b64(v.root1), b64(v.root2));
      expect(ok).toBe(!v.wantErr);
      if (!v.wantErr && v.size2 <= 8) {
        const t = treeOf(INPUTS.slice(0, v.size2).map((x) => leafHash(x)));
        expect(consistencyProof(t, v.size1, v.size2).map((p) => p.toString('base64'))).toEqual(v.proof ?? []);
      }
    });
  });

  const leavesArb = fc.integer({ min: 1, max: 200 }).map((n) => Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`entry ${i}`))));

  it('computes the root of the RFC definition incrementally, and from stored subtrees at any earlier size', () => {
    fc.assert(fc.property(leavesArb, fc.nat(), (leaves, s) => {
      const t = treeOf(leaves);
      const size = 1 + (s % leaves.length);
      expect(t.root().equals(mth(leaves))).toBe(true);
      expect(Frontier.at(t, size).root().equals(mth(leaves.slice(0, size)))).toBe(true);
    }), { numRuns: 200 });
  });

  it('proves every leaf of random trees, and no flipped bit of proof, leaf or root verifies', () => {
    fc.assert(fc.property(leavesArb, fc.nat(), fc.nat(), fc.nat(), (leaves, i, s, bit) => {
      const t = treeOf(leaves);
      const size = 1 + (s % leaves.length);
      const index = i % size;
      const root = mth(leaves.slice(0, size));
      const path = inclusionProof(t, index, size);
      expect(verifyInclusion(index, size, leaves[index]!, path, root)).toBe(true);
      expect(verifyInclusion(index, size, flip(leaves[index]!, bit), path, root)).toBe(false);
      expect(verifyInclusion(index, size, leaves[index]!, path, flip(root, bit))).toBe(false);
      if (path.length) {
        const k = bit % path.length;
        expect(verifyInclusion(index, size, leaves[index]!, path.map((p, j) => (j === k ? flip(p, bit) : p)), root)).toBe(false);
      }
      if (size > 1) expect(verifyInclusion((index + 1) % size, size, leaves[index]!, path, root)).toBe(false);
    }), { numRuns: 300 });
  });

  it('proves consistency between any two sizes, and no flipped bit verifies', () => {
    fc.assert(fc.property(leavesArb, fc.nat(), fc.nat(), fc.nat(), (leaves, a, b, bit) => {
      const t = treeOf(leaves);
      const second = 1 + (b % leaves.length);
      const first = 1 + (a % second);
      const r1 = mth(leaves.slice(0, first));
      const r2 = mth(leaves.slice(0, second));
      const proof = consistencyProof(t, first, second);
      expect(verifyConsistency(first, second, proof, r1, r2)).toBe(true);
      expect(verifyConsistency(first, second, proof, flip(r1, bit), r2)).toBe(false);
      expect(verifyConsistency(first, second, proof, r1, flip(r2, bit))).toBe(false);
      if (proof.length) {
        const k = bit % proof.length;
        expect(verifyConsistency(first, second, proof.map((p, j) => (j === k ? flip(p, bit) : p)), r1, r2)).toBe(false);
      }
    }), { numRuns: 300 });
  });

  it('handles indexes and sizes past 2^31 and 2^32 (arithmetic, not 32-bit operators)', () => {
    // A consistent sparse tree: every leaf is X except the one at \`target\`, so any subtree hash is computable.
    const sparse = (target: number) => {
      const x = leafHash(Buffer.from('x'));
      const all: Buffer[] = [x];
      const withTarget: Buffer[] = [leafHash(Buffer.from('target'))];
      for (let l = 0; l < 60; l++) {
        all.push(nodeHash(all[l]!, all[l]!));
        withTarget.push(Math.floor(target / 2 ** l) % 2 === 0 ? nodeHash(withTarget[l]!, all[l]!) : nodeHash(all[l]!, withTarget[l]!));
      }
      return { node: (level: number, index: number) => (Math.floor(target / 2 ** level) === index ? withTarget[level]! : all[level]!) };
    };
    for (const size of [2 ** 31 + 5, 2 ** 32 + 3, 3 * 2 ** 33 + 1]) {
      const index = size - 2;
      const src = sparse(index);
      const root = Frontier.at(src, size).root();
      const path = inclusionProof(src, index, size);
      expect(verifyInclusion(index, size, src.node(0, index), path, root)).toBe(true);
      expect(verifyInclusion(index - 1, size, src.node(0, index), path, root)).toBe(false);
      const first = 2 ** 31 + 1;
      expect(verifyConsistency(first, size, consistencyProof(src, first, size), Frontier.at(src, first).root(), root)).toBe(true);
      expect(verifyConsistency(first + 1, size, consistencyProof(src, first, size), Frontier.at(src, first).root(), root)).toBe(false);
    }
  });
});

describe('the embedded store\'s node keys', () => {
  it('number the nodes in the order a growing tree creates them, and count the leaves back from the nodes', () => {
    const created: number[] = [];
    const f = new Frontier();
    for (let i = 0; i < 1000; i++) {
      f.push(leafHash(Buffer.from([i & 255])), (level, index) => created.push(nodePosition(level, index)));
      expect(leavesOf(created.length)).toBe(i + 1);
    }
    expect(created).toEqual(created.map((_, i) => i));
  });
  it('stay exact past 2^32 leaves', () => {
    const n = 2 ** 33 + 5;
    // The last leaf of a tree of n leaves is its last node unless it completes subtrees.
    expect(leavesOf(nodePosition(0, n - 1) + 1)).toBe(n);
    expect(nodePosition(1, (n - 3) / 2)).toBe(nodePosition(0, n - 2) + 1);
    expect(() => leavesOf(2)).toThrow(/cannot have 2 nodes/);
  });
});
