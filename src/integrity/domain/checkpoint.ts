import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Checkpoints are C2SP `tlog-checkpoint` bodies in C2SP `signed-note` envelopes with Ed25519 signatures,
 * so standard transparency-log tooling (e.g. golang.org/x/mod/sumdb/note) checks them:
 *
 *     <origin>\n<tree size>\n<base64 root hash>\ntimestamp <RFC 3339>\n
 *     \n
 *     — <key name> <base64(key id ‖ signature)>\n
 *
 * key id = first 4 bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key); the signature covers the
 * body, its last newline included. The timestamp is an extension line, signed with the rest.
 */
export interface CheckpointBody {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: Buffer;
  readonly timestamp: string;
}

export interface SignedCheckpoint extends CheckpointBody {
  readonly keyName: string;
  readonly keyId: Buffer;
  readonly signature: Buffer;
  readonly note: string;
}

const ED25519 = 0x01;
const NAME = /^[^\s+]+$/;
const DASH = '\u2014';

export const isKeyName = (s: string): boolean => NAME.test(s) && s.length <= 128;

export function keyIdOf(name: string, publicKey: Uint8Array): Buffer {
  return createHash('sha256').update(name).update(Buffer.from([0x0a, ED25519])).update(publicKey).digest().subarray(0, 4);
}

export function bodyText(b: CheckpointBody): string {
  return `${b.origin}\n${b.treeSize}\n${b.rootHash.toString('base64')}\ntimestamp ${b.timestamp}\n`;
}

export interface SigningKey {
  readonly name: string;
  readonly publicKey: Buffer;
  readonly privateKey: KeyObject;
}

export function signCheckpoint(body: CheckpointBody, key: SigningKey): SignedCheckpoint {
  const text = bodyText(body);
  const signature = sign(null, Buffer.from(text), key.privateKey);
  const keyId = keyIdOf(key.name, key.publicKey);
  const note = `${text}\n${DASH} ${key.name} ${Buffer.concat([keyId, signature]).toString('base64')}\n`;
  return { ...body, keyName: key.name, keyId, signature, note };
}

export interface OpenedNote {
  readonly text: string;
  readonly signatures: ReadonlyArray<{ name: string; keyId: Buffer; signature: Buffer }>;
}

/** Splits a signed note into its text and signature lines; null when it is not one. */
export function openNote(note: string): OpenedNote | null {
  const sep = note.lastIndexOf('\n\n');
  if (sep < 0 || !note.endsWith('\n')) return null;
  const text = note.slice(0, sep + 1);
  const signatures = [];
  for (const line of note.slice(sep + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) return null;
    const raw = Buffer.from(m[2]!, 'base64');
    if (raw.length < 5) return null;
    signatures.push({ name: m[1]!, keyId: raw.subarray(0, 4), signature: raw.subarray(4) });
  }
  return signatures.length ? { text, signatures } : null;
}

/** Parses a checkpoint body; null when malformed. */
export function parseBody(text: string): CheckpointBody | null {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') return null;
  const [origin, size, root] = lines;
  if (!origin || !/^(0|[1-9][0-9]{0,15})$/.test(size ?? '')) return null;
  const rootHash = Buffer.from(root ?? '', 'base64');
  if (rootHash.length !== 32 || rootHash.toString('base64') !== root) return null;
  const ts = lines.slice(3, -1).find((l) => l.startsWith('timestamp '));
  return { origin, treeSize: Number(size), rootHash, timestamp: ts ? ts.slice('timestamp '.length) : '' };
}

export const ed25519PublicKey = (raw: Uint8Array): KeyObject =>
  createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });

export const ed25519PrivateKey = (seed: Uint8Array): KeyObject =>
  createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });

export const rawPublicKey = (k: KeyObject): Buffer => (createPublicKey(k).export({ format: 'der', type: 'spki' }) as Buffer).subarray(-32);
export const rawSeed = (k: KeyObject): Buffer => (k.export({ format: 'der', type: 'pkcs8' }) as Buffer).subarray(-32);

/** Is `note` signed by the key (`name`, `publicKey`)? */
export function verifyNote(note: string, name: string, publicKey: Uint8Array): boolean {
  const opened = openNote(note);
  if (!opened || publicKey.length !== 32) return false;
  const id = keyIdOf(name, publicKey);
  const key = ed25519PublicKey(publicKey);
  return opened.signatures.some((s) => s.name === name && s.keyId.equals(id) && s.signature.length === 64 && verify(null, Buffer.from(opened.text), key, s.signature));
}
