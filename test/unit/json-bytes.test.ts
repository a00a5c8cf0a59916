import fc from 'fast-check';
import { jsonBytes } from '../../src/api/http/json-bytes.js';

describe('a report serialised with its history a slice at a time', () => {
  it('is the JSON of the whole, byte for byte, whatever the list and its neighbours hold', () => {
    const item = fc.record({ position: fc.nat(), text: fc.string({ unit: 'binary' }), nested: fc.option(fc.dictionary(fc.string(), fc.jsonValue())) });
    fc.assert(fc.property(fc.dictionary(fc.string().filter((k) => k !== 'history' && k !== '__proto__'), fc.jsonValue(), { maxKeys: 5 }), fc.array(item, { maxLength: 450 }), (rest, history) => {
      const value = { ...rest, history };
      expect(jsonBytes(value, 'history').equals(Buffer.from(JSON.stringify(value), 'utf8'))).toBe(true);
    }), { numRuns: 60 });
  });

  it('keeps the keys in their order when the list is the last of them, and handles an empty list and no neighbours', () => {
    const report = { subject: 'visitor:é', history: [{ n: 1 }], other: 2 };
    expect(JSON.parse(jsonBytes(report, 'history').toString('utf8'))).toEqual(report);
    expect(jsonBytes({ history: [] }, 'history').toString('utf8')).toBe('{"history":[]}');
    const long = { id: 'x', history: Array.from({ length: 1001 }, (_, i) => ({ i, s: '→'.repeat(i % 7) })) };
    expect(jsonBytes(long, 'history').toString('utf8')).toBe(JSON.stringify(long));
  });

  it('serialises a value whose key holds no list as a whole', () => {
    expect(jsonBytes({ history: null, a: 1 }, 'history').toString('utf8')).toBe('{"history":null,"a":1}');
  });
});
