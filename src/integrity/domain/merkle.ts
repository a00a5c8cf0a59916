import { createHash, hash } from 'node:crypto';

/**
 * RFC 9162 §2.1 Merkle trees: leaf hash SHA-256(0x00 ‖ entry), node hash SHA-256(0x01 ‖ left ‖ right).
 * Sizes and indexes are plain numbers handled with arithmetic, never 32-bit bitwise operators, so
 * trees up to 2^53 leaves work.
 */
export const HASH_SIZE = 32;
const EMPTY_ROOT = createHash('sha256').digest();
const pair = Buffer.alloc(1 + 2 * HASH_SIZE);

/** SHA-256(0x01 ‖ left ‖ right); any lengths (a verifier must not trust them to be 32 bytes). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) return createHash('sha256').update(Buffer.from([0x01])).update(left).update(right).digest();
  pair[0] = 0x01;
  pair.set(left, 1);
  pair.set(right, 1 + HASH_SIZE);
  return hash('sha256', pair, 'buffer');
}

const isOdd = (x: number) => x % 2 === 1;
const half = (x: number) => Math.floor(x / 2);

/** The largest power of two strictly below `n` (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const isPowerOfTwo = (n: number) => n >= 1 && 2 ** Math.round(Math.log2(n)) === n;

/** A tree's complete subtrees were expected in the store and one is not there: the store was altered. */
export class MissingNode extends Error {}

/** Where complete subtrees are kept: level L, index i covers leaves [i·2^L, (i+1)·2^L). */
export interface NodeSource {
  node(level: number, index: number): Buffer;
}

/** MTH of the leaves [lo, hi) from complete subtrees (lo is aligned to the largest one, as in every RFC 9162 split). */
export function rangeHash(src: NodeSource, lo: number, hi: number): Buffer {
  const size = hi - lo;
  if (size === 0) return EMPTY_ROOT;
  if (isPowerOfTwo(size) && lo % size === 0) return src.node(Math.round(Math.log2(size)), lo / size);
  const k = splitPoint(size);
  return nodeHash(rangeHash(src, lo, lo + k), rangeHash(src, lo + k, hi));
}

export const rootAt = (src: NodeSource, size: number): Buffer => rangeHash(src, 0, size);

/** RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size` leaves. */
export function inclusionProof(src: NodeSource, index: number, size: number): Buffer[] {
  if (!(index >= 0 && index < size)) throw new RangeError('leaf index outside the tree');
  const path: Buffer[] = [];
  let lo = 0;
  let hi = size;
  let m = index;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (m < k) {
      path.push(rangeHash(src, lo + k, hi));
      hi = lo + k;
    } else {
      path.push(rangeHash(src, lo, lo + k));
      lo += k;
      m -= k;
    }
  }
  return path.reverse();
}

/** RFC 9162 §2.1.4.1 consistency proof between the trees of `first` and `second` leaves (0 < first ≤ second). */
export function consistencyProof(src: NodeSource, first: number, second: number): Buffer[] {
  if (!(first > 0 && first <= second)) throw new RangeError('consistency needs 0 < from <= to');
  const proof: Buffer[] = [];
  let lo = 0;
  let hi = second;
  let m = first;
  let complete = true;
  while (m !== hi - lo) {
    const k = splitPoint(hi - lo);
    if (m <= k) {
      proof.push(rangeHash(src, lo + k, hi));
      hi = lo + k;
    } else {
      proof.push(rangeHash(src, lo, lo + k));
      lo += k;
      m -= k;
      complete = false;
    }
  }
  if (!complete) proof.push(rangeHash(src, lo, hi));
  return proof.reverse();
}

const is32 = (b: Uint8Array) => b.length === HASH_SIZE;
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/** RFC 9162 §2.1.3.2: does `path` prove leaf `leafHash` at `index` in the tree of `size` with root `root`? */
export function verifyInclusion(index: number, size: number, leafHash: Uint8Array, path: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!(index >= 0 && index < size) || !is32(leafHash) || !is32(root) || !path.every(is32)) return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leafHash;
  for (const p of path) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) while (!isOdd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else r = nodeHash(r, p);
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && same(r, root);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree of `second` leaves extends the tree of `first` leaves? */
export function verifyConsistency(first: number, second: number, proof: readonly Uint8Array[], firstRoot: Uint8Array, secondRoot: Uint8Array): boolean {
  if (!(first > 0 && first <= second)) return false;
  if (first === second) return proof.length === 0 && same(firstRoot, secondRoot);
  if (!is32(firstRoot) || !is32(secondRoot) || !proof.every(is32)) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (isOdd(fn)) { fn = half(fn); sn = half(sn); }
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) while (!isOdd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else sr = nodeHash(sr, c);
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && same(fr, firstRoot) && same(sr, secondRoot);
}

/**
 * The right edge of a growing tree (its compact range): one hash per complete subtree of the size's
 * binary decomposition. Appending a leaf costs O(log n); so does the root. `onNode` sees every
 * complete subtree as it is formed (level, index, hash), for stores that keep them.
 */
export class Frontier {
  private readonly stack: Array<{ level: number; hash: Buffer }>;

  constructor(private count = 0, subtrees: ReadonlyArray<{ level: number; hash: Buffer }> = []) {
    this.stack = [...subtrees];
  }

  /** The frontier of a tree of `size` leaves, read from stored complete subtrees. */
  static at(src: NodeSource, size: number): Frontier {
    const subtrees: Array<{ level: number; hash: Buffer }> = [];
    let offset = 0;
    for (let level = Math.floor(Math.log2(Math.max(size, 1))) + 1; level >= 0; level--) {
      const width = 2 ** level;
      if (size - offset >= width) {
        subtrees.push({ level, hash: src.node(level, offset / width) });
        offset += width;
      }
    }
    return new Frontier(size, subtrees);
  }

  get size(): number {
    return this.count;
  }

  push(leaf: Buffer, onNode?: (level: number, index: number, hash: Buffer) => void): void {
    const index = this.count++;
    onNode?.(0, index, leaf);
    let hash = leaf;
    let level = 0;
    while (this.stack.length && this.stack[this.stack.length - 1]!.level === level) {
      hash = nodeHash(this.stack.pop()!.hash, hash);
      level++;
      onNode?.(level, Math.floor(index / 2 ** level), hash);
    }
    this.stack.push({ level, hash });
  }

  root(): Buffer {
    if (this.stack.length === 0) return EMPTY_ROOT;
    let r = this.stack[this.stack.length - 1]!.hash;
    for (let i = this.stack.length - 2; i >= 0; i--) r = nodeHash(this.stack[i]!.hash, r);
    return r;
  }

  copy(): Frontier {
    return new Frontier(this.count, this.stack);
  }
}

/** Every complete subtree of a list of leaf hashes, in memory (tests, small trees). */
export class MemoryTree implements NodeSource {
  private readonly levels: Buffer[][] = [[]];
  private readonly frontier = new Frontier();

  push(leaf: Buffer): void {
    this.frontier.push(leaf, (level, index, hash) => {
      (this.levels[level] ??= [])[index] = hash;
    });
  }

  node(level: number, index: number): Buffer {
    const h = this.levels[level]?.[index];
    if (!h) throw new RangeError(`no complete subtree at level ${level}, index ${index}`);
    return h;
  }

  get size(): number {
    return this.frontier.size;
  }

  root(): Buffer {
    return this.frontier.root();
  }
}
