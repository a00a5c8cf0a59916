import fc from 'fast-check';
import { aad, blindIndex, generationOf, newKey, open, seal } from '../../src/keys/domain/sealing.js';

describe('sealing a personal value', () => {
  const key = newKey();
  const context = aad.identifier('acme', 'visitor:a', 'user.device.ip_address', 'e1', 'ip');

  it('opens with the same key and context', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), fc.nat({ max: 2 ** 31 }), (value, generation) => {
      const sealed = seal(key, generation, value, context);
      return open(key, sealed, context)?.toString('utf8') === value && generationOf(sealed) === generation;
    }));
  });

  it('does not open under another subject, another key or after a bit flip', () => {
    const sealed = seal(key, 1, '203.0.113.7', context);
    expect(open(key, sealed, aad.identifier('acme', 'visitor:b', 'user.device.ip_address', 'e1', 'ip'))).toBeNull();
    expect(open(newKey(), sealed, context)).toBeNull();
    const raw = Buffer.from(sealed, 'base64url');
    raw[raw.length - 20]! ^= 1;
    expect(open(key, raw.toString('base64url'), context)).toBeNull();
  });

  it('never repeats a nonce', () => {
    const nonces = new Set(Array.from({ length: 5000 }, () => Buffer.from(seal(key, 1, 'x', context), 'base64url').subarray(5, 17).toString('hex')));
    expect(nonces.size).toBe(5000);
  });

  it('indexes equal identifiers equally, and only under the same index key', () => {
    const k = newKey();
    expect(blindIndex(k, 'ip', '203.0.113.7')).toEqual(blindIndex(k, 'ip', '203.0.113.7'));
    expect(blindIndex(k, 'ip', '203.0.113.7')).not.toEqual(blindIndex(newKey(), 'ip', '203.0.113.7'));
    expect(blindIndex(k, 'ip', '203.0.113.7')).not.toEqual(blindIndex(k, 'email', '203.0.113.7'));
  });
});
