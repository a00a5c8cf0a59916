import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM sealing of personal values and of data keys. A sealed value is
 * `0x01 ‖ generation (u32 BE) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`, base64url; the additional
 * authenticated data binds it to where it belongs, so a ciphertext cannot be moved to another subject.
 */
const FORMAT = 1;
const HEADER = 1 + 4 + 12;
const TAG = 16;

// Nonces are drawn from a pool of fresh random bytes: same randomness, one system call per 1024 nonces.
const POOL_NONCES = 1024;
let pool = Buffer.alloc(0);
let poolOffset = 0;
function nextNonce(): Buffer {
  if (poolOffset >= pool.length) {
    pool = randomBytes(12 * POOL_NONCES);
    poolOffset = 0;
  }
  const nonce = pool.subarray(poolOffset, poolOffset + 12);
  poolOffset += 12;
  return nonce;
}

export function seal(key: Uint8Array, generation: number, plaintext: string | Uint8Array, aad: string): string {
  const nonce = nextNonce();
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  const head = Buffer.alloc(5);
  head[0] = FORMAT;
  head.writeUInt32BE(generation, 1);
  return Buffer.concat([head, nonce, body, cipher.getAuthTag()]).toString('base64url');
}

/** The key generation a sealed value was made with, or null when it is not one of ours. */
export function generationOf(sealed: string): number | null {
  const raw = Buffer.from(sealed, 'base64url');
  return raw.length >= HEADER + TAG && raw[0] === FORMAT ? raw.readUInt32BE(1) : null;
}

/** Opens a sealed value; null when the key, the context or the bytes do not match. */
export function open(key: Uint8Array, sealed: string, aad: string): Buffer | null {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < HEADER + TAG || raw[0] !== FORMAT) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(5, HEADER));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(raw.subarray(raw.length - TAG));
    return Buffer.concat([decipher.update(raw.subarray(HEADER, raw.length - TAG)), decipher.final()]);
  } catch {
    return null;
  }
}

export const newKey = (): Buffer => randomBytes(32);

/** Context strings: one place, so writers and readers cannot disagree. */
export const aad = {
  identifier: (tenant: string, subject: string, category: string, eventId: string, kind: string) =>
    `pdl/v1/identifier\u0000${tenant}\u0000${subject}\u0000${category}\u0000${eventId}\u0000${kind}`,
  dataKey: (tenant: string, subject: string, category: string, generation: number) =>
    `pdl/v1/data-key\u0000${tenant}\u0000${subject}\u0000${category}\u0000${generation}`,
  indexKey: (tenant: string) => `pdl/v1/index-key\u0000${tenant}`,
};

/** Keyed blind index of a normalised identifier: equality lookups without storing the value. */
export function blindIndex(indexKey: Uint8Array, kind: string, normalised: string): Buffer {
  return createHmac('sha256', indexKey).update(`${kind}\u0000${normalised}`, 'utf8').digest();
}
