import fc from 'fast-check';
import { jsonBytes } from '../../src/common/http/json-bytes.js';

describe('jsonBytes', () => {
  it('writes the bytes of JSON.stringify, whatever the value and wherever the array field is', () => {
    const item = fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.record({ history: fc.array(fc.string()), note: fc.string({ unit: 'binary' }) }));
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(item), fc.nat(5), (rest, items, at) => {
      const keys = Object.keys(rest);
      // The array field among the others, at some place.
      const value = Object.fromEntries([...keys.slice(0, at), 'history', ...keys.slice(at)].map((k) => [k, k === 'history' ? items : rest[k]]));
      expect(jsonBytes(value, 'history').equals(Buffer.from(JSON.stringify(value), 'utf8'))).toBe(true);
    }), { numRuns: 500 });
  });

  it('keeps data that looks like its marker, non-ASCII text and a field that is not an array as JSON.stringify does', () => {
    const value = { a: '\u0000', history: [{ t: '"\\u0000"', e: 'é 😀 \u2028' }, 1, null], b: { history: [] } };
    expect(jsonBytes(value, 'history').toString('utf8')).toBe(JSON.stringify(value));
    const notArray = { history: 'none', x: 1 };
    expect(jsonBytes(notArray, 'history').toString('utf8')).toBe(JSON.stringify(notArray));
    expect(jsonBytes({ history: [] }, 'history').toString('utf8')).toBe('{"history":[]}');
  });
});
