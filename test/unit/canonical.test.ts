import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { canonicalBytes, leafHash } from '../../src/ledger/domain/canonical.js';
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
