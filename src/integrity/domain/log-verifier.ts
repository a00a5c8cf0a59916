import { leafHash } from '../../ledger/domain/canonical.js';
import { Frontier } from './merkle.js';

/** The first thing wrong with a log, and where. */
export interface Tampering {
  readonly position: number;
  readonly problem: string;
}

export interface ExpectedRoot {
  readonly treeSize: number;
  readonly rootHash: Buffer;
  readonly label: string;
}

/** What the verifier needs of a line: its position (null: not an entry), leaf hash, and `prev` (raw bytes; null: absent). */
export interface Digest {
  readonly position: number | null;
  readonly leaf: Buffer;
  readonly prev: Buffer | null;
}

export function digestLine(bytes: Buffer): Digest {
  const leaf = leafHash(bytes);
  const f = fieldsOf(bytes);
  if (!f) return { position: null, leaf, prev: null };
  const prev = f.prevAt >= 0 ? Buffer.from(bytes.toString('latin1', f.prevAt, f.prevAt + 64), 'hex') : f.prev !== undefined ? Buffer.from(f.prev, 'hex') : null;
  return { position: f.position, leaf, prev };
}

const POSITION = Buffer.from('"position":');
const PREV = Buffer.from('"prev":"');

/**
 * Streams a tenant log (one canonical entry per line, from position 0) and checks, entry by entry, that
 * positions follow each other, that each entry chains (`prev`) to the leaf hash of the one before, and
 * that the Merkle root at each expected tree size is the expected one. It names the first bad position:
 * a removed, inserted or reordered entry breaks the positions there; a changed entry breaks the chain at
 * its successor; a changed last entry, or a chain forged anew, breaks the root.
 */
export class LogVerifier {
  private readonly frontier = new Frontier();
  private readonly expected: ExpectedRoot[];
  private last: Buffer | null = null;
  private problem: Tampering | null = null;
  readonly checked: string[] = [];

  constructor(expected: readonly ExpectedRoot[]) {
    this.expected = [...expected].sort((a, b) => a.treeSize - b.treeSize);
  }

  get size(): number {
    return this.frontier.size;
  }

  /** The Merkle root of the entries read so far. */
  root(): Buffer {
    return this.frontier.root();
  }

  /** Feeds the next line (without its newline); returns the first problem found so far. */
  line(bytes: Buffer): Tampering | null {
    return this.problem ?? this.entry(digestLine(bytes));
  }

  /** Feeds the next entry, digested (here by `line`, or on another thread); returns the first problem so far. */
  entry(d: Digest): Tampering | null {
    if (this.problem) return this.problem;
    const i = this.frontier.size;
    if (d.position === null) return (this.problem = { position: i, problem: `line ${i + 1} is not a log entry (not JSON with a position)` });
    if (d.position !== i) {
      return (this.problem = {
        position: i,
        problem: d.position > i
          ? `expected the entry at position ${i}, found position ${d.position}: entries were removed here (or reordered)`
          : `expected the entry at position ${i}, found position ${d.position} again: an entry was inserted or reordered here`,
      });
    }
    if (i > 0 && !(d.prev !== null && this.last!.equals(d.prev))) {
      return (this.problem = {
        position: i - 1,
        problem: `the entry at position ${i - 1} is not the one the log recorded: the next entry (position ${i}) chains to another hash`,
      });
    }
    if (i === 0 && d.prev !== null) return (this.problem = { position: 0, problem: 'the first entry chains to an earlier one: this is not the log from its start' });
    const leaf = d.leaf;
    this.frontier.push(leaf);
    this.last = leaf;
    for (const e of this.expected) {
      if (e.treeSize !== this.frontier.size) continue;
      if (!this.frontier.root().equals(e.rootHash)) {
        return (this.problem = {
          position: e.treeSize - 1,
          problem: `the root of the first ${e.treeSize} entries differs from ${e.label}: the entry at position ${e.treeSize - 1} was changed (or an earlier one, with every later chain link forged)`,
        });
      }
      this.checked.push(`${e.label}: root of ${e.treeSize} entries matches`);
    }
    return null;
  }

  /** After the last line: every expected tree size must have been reached. */
  end(): Tampering | null {
    if (this.problem) return this.problem;
    const n = this.frontier.size;
    const missing = this.expected.find((e) => e.treeSize > n);
    if (missing) this.problem = { position: n, problem: `the log ends after ${n} entries but ${missing.label} covers ${missing.treeSize}: entries from position ${n} are missing` };
    return this.problem;
  }
}

/**
 * `position` and `prev` of a canonical entry: `prevAt` is the offset of the 64 hex digits of `prev` in
 * the line (-1 when absent, or when read by parsing: then `prev`). Keys are sorted (RFC 8785), the only
 * open object of an entry (`details`) sorts before `position`, and `prev` directly follows `position`;
 * so the last `"position":` is the top-level one. Anything else is read by parsing the line.
 */
function fieldsOf(line: Buffer): { position: number; prevAt: number; prev?: string } | null {
  const p = line.lastIndexOf(POSITION);
  if (p >= 0) {
    let end = p + POSITION.length;
    let position = 0;
    let digits = 0;
    for (let c = line[end]; c !== undefined && c >= 0x30 && c <= 0x39; c = line[++end]) { position = position * 10 + (c - 0x30); digits++; }
    if (digits > 0 && digits <= 16) {
      if (line[end] === 0x2c && line.compare(PREV, 0, PREV.length, end + 1, end + 1 + PREV.length) === 0 && line[end + 1 + PREV.length + 64] === 0x22) {
        return { position, prevAt: end + 1 + PREV.length };
      }
      if ((line[end] === 0x2c || line[end] === 0x7d) && line.lastIndexOf(PREV) < 0) return { position, prevAt: -1 };
    }
  }
  try {
    const e = JSON.parse(line.toString('utf8')) as { position?: unknown; prev?: unknown };
    if (!Number.isSafeInteger(e.position)) return null;
    return typeof e.prev === 'string' ? { position: e.position as number, prevAt: -1, prev: e.prev } : { position: e.position as number, prevAt: -1 };
  } catch {
    return null;
  }
}
