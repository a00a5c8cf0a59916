import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newKey, open, seal } from './domain/sealing.js';
import { finishMasterRotation } from './sqlite/rotate-master.js';

export interface MasterKey {
  readonly key: Buffer;
  /** Short fingerprint stored beside each wrapped key, so a rotation knows what wrapped what. */
  readonly id: string;
}

export function parse(text: string): Buffer | null {
  const s = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex');
  const b = Buffer.from(s, 'base64');
  return b.length === 32 ? b : null;
}

/** A wrapped key (data key or index key, bound to `context`) wrapped again under `next`; throws when `current` does not open it. */
export function rewrapped(current: MasterKey, next: MasterKey, wrapped: Buffer, context: string): Buffer {
  const plain = open(current.key, wrapped.toString('base64url'), context);
  if (!plain) throw new Error('a key does not open with the current master key: nothing was changed');
  return Buffer.from(seal(next.key, 0, plain, context), 'base64url');
}

export const fingerprint = (key: Buffer) => createHash('sha256').update('pdl/v1/master-key-id').update(key).digest('hex').slice(0, 16);

/** `PDL_MASTER_KEY` (32 bytes, hex or base64), else `<data dir>/master.key`, created (0600) on first start. */
export function loadMasterKey(fromEnv: string | undefined, dataDir: string): { master: MasterKey; created: string | null } {
  if (fromEnv) {
    const key = parse(fromEnv);
    if (!key) throw new Error('PDL_MASTER_KEY must be 32 bytes, as 64 hex digits or base64');
    return { master: { key, id: fingerprint(key) }, created: null };
  }
  const file = join(dataDir, 'master.key');
  finishMasterRotation(dataDir);
  if (existsSync(file)) {
    const key = parse(readFileSync(file, 'utf8'));
    if (!key) throw new Error(`the master key file is not 32 bytes of hex or base64`);
    return { master: { key, id: fingerprint(key) }, created: null };
  }
  const key = newKey();
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return { master: { key, id: fingerprint(key) }, created: file };
}
