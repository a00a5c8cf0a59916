import fc from 'fast-check';
import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import { canonicalBytes, inCanonicalOrder, leafHash, leafHashOfText } from '../../src/ledger/domain/canonical.js';
import { sameSubmission } from '../../src/ledger/domain/submission.js';
import { anEvent } from '../support/builders.js';

const shuffleKeys = (v: unknown, seed: number): unknown => {
  if (Array.isArray(v)) return v.map((x) => shuffleKeys(x, seed));
  if (v && typeof v === 'object') {
    const entries = Object.entries(v);
    entries.sort((a, b) => ((a[0].charCodeAt(0) * seed) % 7) - ((b[0].charCodeAt(0) * seed) % 7));
    return Object.fromEntries(entries.map(([k, x]) => [k, shuffleKeys(x, seed)]));
  }
  return v;
};

describe('canonical bytes (RFC 8785)', () => {
  it('do not depend on key order', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.integer({ min: 1, max: 97 }), (value, seed) => canonicalBytes(value).equals(canonicalBytes(shuffleKeys(value, seed)))));
  });
  it('hash as an RFC 9162 leaf: SHA-256(0x00 || bytes)', () => {
    const bytes = canonicalBytes({ b: 1, a: 'x' });
    expect(bytes.toString()).toBe('{"a":"x","b":1}');
    expect(leafHash(bytes).toString('hex')).toBe(createHash('sha256').update(Buffer.concat([Buffer.from([0]), bytes])).digest('hex'));
  });
  it('hash the same read back as text (a rebuild reads entries so), whatever their characters and length', () => {
    // Lengths around the reused buffer's 4 KB, of characters of 1 to 4 UTF-8 bytes.
    fc.assert(fc.property(fc.jsonValue(), fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀'), minLength: 1000, maxLength: 3000 }), (value, text) => {
      for (const t of [canonicalBytes(value).toString('utf8'), text, text.repeat(3)]) expect(leafHashOfText(t).toString('hex')).toBe(createHash('sha256').update(Buffer.from([0])).update(t, 'utf8').digest('hex'));
    }));
  });
});

describe('a re-sent event', () => {
  const sent = anEvent() as never;
  it('is the same submission whatever its key order', () => {
    expect(sameSubmission(sent, shuffleKeys(sent, 5) as never)).toBe(true);
  });
  it('differs when any field differs', () => {
    expect(sameSubmission(sent, { ...(sent as object), purpose: 'marketing' } as never)).toBe(false);
  });
  it('matches a recorded event whose identifier was forgotten', () => {
    const recorded = { ...(sent as { subject: object }), subject: { id: (sent as { subject: { id: string } }).subject.id, identifiers: { ip: '[erased]' } } };
    expect(sameSubmission(sent, recorded as never)).toBe(true);
  });
});

describe('the fast canonical writer', () => {
  const reference = (v: unknown): string | { threw: true } => {
    // canonicalBytes refuses what canonicalize cannot write (it answers undefined) as well as what it throws on.
    try { return canonicalize(v) ?? { threw: true }; } catch { return { threw: true }; }
  };
  const ours = (v: unknown): string | { threw: true } => {
    try { return canonicalBytes(v).toString('utf8'); } catch { return { threw: true }; }
  };
  const strings = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constantFrom('1', '10', '9', '-1', '01', '4294967295', '\ud800', 'é', '\u2028', '\\ud800', 'a\\udc00b'));
  const values = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' },
      strings, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined),
      fc.array(tie('value')), fc.dictionary(strings, tie('value'))),
  })).value;
  it('writes what the canonicalize package writes, and refuses what it refuses', () => {
    fc.assert(fc.property(values, (v) => {
      const expected = reference(v);
      if (typeof expected === 'string') expect(ours(v)).toBe(expected);
      else expect(ours(v)).toEqual(expected);
    }), { numRuns: 2000 });
  });
  const inOrder = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(inOrder);
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) o[k] = inOrder((v as Record<string, unknown>)[k]);
      return o;
    }
    return v;
  };
  it('writes values whose keys are already in canonical order as canonicalize does (the engine writer path)', () => {
    fc.assert(fc.property(values, (v) => {
      const sorted = inOrder(v);
      const expected = reference(sorted);
      if (typeof expected === 'string') expect(ours(sorted)).toBe(expected);
      else expect(ours(sorted)).toEqual(expected);
    }), { numRuns: 2000 });
  });
  it('takes the engine writer only for plain JSON in canonical order', () => {
    expect(inCanonicalOrder({ a: 1, b: [{ c: 'x', d: null }], e: true })).toBe(true);
    expect(inCanonicalOrder({ b: 1, a: 2 })).toBe(false);
    expect(inCanonicalOrder({ a: { d: 1, c: 2 } })).toBe(false);
    // Index keys come first whatever their creation order, and "10" < "9" in code units.
    expect(inCanonicalOrder({ 9: 1, 10: 2 })).toBe(false);
    expect(inCanonicalOrder({ a: undefined })).toBe(false);
    expect(inCanonicalOrder([1, undefined])).toBe(false);
    expect(inCanonicalOrder({ a: Number.NaN })).toBe(false);
    expect(inCanonicalOrder({ a: new Date(0) })).toBe(false);
    expect(inCanonicalOrder({ a: new (class { x = 1; })() })).toBe(false);
    expect(inCanonicalOrder({ a: 1n })).toBe(false);
    expect(inCanonicalOrder(Object.assign(Object.create(null), { a: 1, b: 2 }))).toBe(true);
  });
  it('writes the rest as canonicalize does: unordered keys, an own "__proto__", a null prototype, toJSON, a lone surrogate', () => {
    const cases: unknown[] = [
      { b: 1, a: 2 }, { 9: 1, 10: 2, a: [] }, JSON.parse('{"__proto__":{"x":1},"a":1}'), JSON.parse('{"a":{"__proto__":1},"b":{"c":2}}'),
      Object.assign(Object.create(null), { b: 1, a: 2 }), { a: new Date(0) }, { a: 1, b: { c: -0, d: 1e21 } },
    ];
    for (const v of cases) expect(ours(v)).toBe(reference(v));
    expect(() => canonicalBytes({ a: 'x\udc00' })).toThrow();
  });
  it('writes array-index keys, surrogate pairs and numbers as RFC 8785 does', () => {
    expect(canonicalBytes({ 10: 1, 9: 2, b: 3, '-x': 4, 'é': 5 }).toString()).toBe('{"-x":4,"10":1,"9":2,"b":3,"é":5}');
    expect(canonicalBytes({ s: '😀', n: [1e21, 1e-7, -0, 0.1] }).toString()).toBe('{"n":[1e+21,1e-7,0,0.1],"s":"😀"}');
    expect(() => canonicalBytes({ s: '\ud800' })).toThrow();
    expect(() => canonicalBytes([Number.NaN])).toThrow();
  });
});
