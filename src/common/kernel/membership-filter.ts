/**
 * A set of strings that answers "certainly not in it" or "perhaps in it": a scalable Bloom filter
 * (Almeida et al., 2007). It grows with what it holds: when its newest part is full it adds one twice as
 * large, made for half the error rate of the one before, so it is never sized in advance nor made again,
 * and a non-member is reported present less than 2% of the time however large it grows (1% of the time
 * while its first part is not full), in about 2–4 bytes a member. A member is never reported absent;
 * the caller asks the authority the filter stands in front of when it says "perhaps". Hashing is not
 * keyed: keys chosen to collide only make more of those questions.
 */
export class MembershipFilter {
  private readonly parts: Part[] = [];

  constructor(private readonly firstCapacity = 1 << 16) {}

  add(key: string): void {
    let part = this.parts[this.parts.length - 1];
    if (!part || part.count >= part.capacity) {
      part = new Part(part ? part.capacity * 2 : this.firstCapacity, FIRST_ERROR_RATE / 2 ** this.parts.length);
      this.parts.push(part);
    }
    hashes(key);
    part.add();
  }

  /** false: `key` was never added. true: it may have been. */
  mightHave(key: string): boolean {
    if (this.parts.length === 0) return false;
    hashes(key);
    for (let i = this.parts.length - 1; i >= 0; i--) if (this.parts[i]!.has()) return true;
    return false;
  }

  /** Bytes its bits take. */
  get bytes(): number {
    return this.parts.reduce((n, p) => n + p.bits.byteLength, 0);
  }
}

const FIRST_ERROR_RATE = 0.01;

/** The two hashes of the key being added or looked up (`hashes`), kept here rather than in a new array each time. */
let h1 = 0;
let h2 = 0;

/** A Bloom filter of `capacity` members with the given rate of false "perhaps" once full. */
class Part {
  count = 0;
  readonly bits: Uint32Array;
  private readonly size: number;
  private readonly probes: number;

  constructor(readonly capacity: number, errorRate: number) {
    // The optimal filter: m = −n·ln p / (ln 2)² bits, k = (m / n)·ln 2 probes.
    const bitsPerMember = -Math.log(errorRate) / Math.LN2 ** 2;
    this.probes = Math.max(1, Math.round(bitsPerMember * Math.LN2));
    this.bits = new Uint32Array(Math.ceil((capacity * bitsPerMember) / 32));
    this.size = this.bits.length * 32;
  }

  /** The i-th probe's bit: h1 + i·h2 (Kirsch and Mitzenmacher: as good as i independent hashes), scaled to the size. */
  private place(i: number): number {
    return Math.floor((((h1 + Math.imul(i, h2)) >>> 0) * this.size) / 4294967296);
  }

  add(): void {
    for (let i = 0; i < this.probes; i++) {
      const bit = this.place(i);
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.count++;
  }

  has(): boolean {
    for (let i = 0; i < this.probes; i++) {
      const bit = this.place(i);
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/**
 * Sets `h1` and `h2`, two 32-bit hashes of `key`: FNV-1a, and a second pass over the same characters
 * with another multiplier, each mixed by MurmurHash3's finaliser. `h2` is odd, so that the probes of one
 * key do not fall back on one place.
 */
function hashes(key: string): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  h1 = fmix(a);
  h2 = (fmix(b) | 1) >>> 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
