import { hash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** RFC 8785 canonical JSON bytes: the exact bytes that are stored, hashed and exported. */
export function canonicalBytes(value: unknown): Buffer {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('value cannot be canonicalised');
  return Buffer.from(text, 'utf8');
}

/** RFC 8785 canonical JSON text: read models store nested values this way, so rebuilding them from the log gives the same bytes. */
export const canonicalJson = (value: unknown): string => canonicalBytes(value).toString('utf8');

let scratch = Buffer.alloc(4096);

/** RFC 9162 §2.1.1 leaf hash: SHA-256(0x00 ‖ entry). (One-shot hashing of a reused buffer: this runs once per entry.) */
export function leafHash(bytes: Uint8Array): Buffer {
  if (scratch.length < bytes.length + 1) scratch = Buffer.alloc(Math.max(bytes.length + 1, scratch.length * 2));
  scratch[0] = 0x00;
  scratch.set(bytes, 1);
  return hash('sha256', scratch.subarray(0, bytes.length + 1), 'buffer');
}
