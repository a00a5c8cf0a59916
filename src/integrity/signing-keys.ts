import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519PrivateKey, keyIdOf, rawPublicKey, rawSeed, type SigningKey } from './domain/checkpoint.js';

interface StoredKey {
  /** The name it signed under (the ledger's name at the time). */
  readonly name: string;
  readonly keyId: string;
  readonly publicKey: string;
  /** Base64 Ed25519 seed; only the current key keeps it. */
  readonly seed?: string;
  readonly createdAt: string;
  readonly retiredAt?: string;
}

export interface PublishedKey {
  readonly name: string;
  readonly keyId: string;
  readonly publicKey: string;
  readonly status: 'current' | 'retired';
  readonly createdAt?: string;
  readonly retiredAt?: string;
  /** The key as `golang.org/x/mod/sumdb/note` verifiers take it: `<name>+<key id hex>+<base64(0x01 ‖ key)>`. */
  readonly verifierKey: string;
}

export class SigningKeyManagedByEnvironment extends Error {}

/** A seed (32 bytes, hex or base64) or a PKCS#8 PEM Ed25519 private key (checked with the rest of the configuration, at start). */
export function parseSeed(text: string): Buffer {
  const s = text.trim();
  if (s.startsWith('-----BEGIN')) {
    let k;
    try {
      k = createPrivateKey(s);
    } catch {
      throw new Error('PDL_SIGNING_KEY is not a PKCS#8 PEM private key that can be read');
    }
    if (k.asymmetricKeyType !== 'ed25519') throw new Error('PDL_SIGNING_KEY must be an Ed25519 key');
    return rawSeed(k);
  }
  const raw = /^[0-9a-fA-F]{64}$/.test(s) ? Buffer.from(s, 'hex') : Buffer.from(s, 'base64');
  if (raw.length !== 32) throw new Error('PDL_SIGNING_KEY must be a 32-byte Ed25519 seed (hex or base64) or a PKCS#8 PEM key');
  return raw;
}

const signingKey = (name: string, seed: Buffer): SigningKey => {
  const privateKey = ed25519PrivateKey(seed);
  return { name, privateKey, publicKey: rawPublicKey(privateKey) };
};

/**
 * The checkpoint-signing keys: the current one signs, retired ones stay published so that every
 * checkpoint ever signed can still be checked. Kept in `<data dir>/signing-keys.json` (0600), created
 * on first start, or given by `PDL_SIGNING_KEY` (then rotation is the operator's business).
 */
export class SigningKeyring {
  private constructor(
    private readonly name: string,
    private readonly file: string,
    private keys: StoredKey[],
    private current: SigningKey,
    private readonly fromEnv: boolean,
  ) {}

  static open(dataDir: string, name: string, envKey: string | undefined, now: () => string): { keyring: SigningKeyring; created: string | null } {
    const file = join(dataDir, 'signing-keys.json');
    const stored: StoredKey[] = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { keys: StoredKey[] }).keys : [];
    if (envKey) {
      const key = signingKey(name, parseSeed(envKey));
      // The file's key that signed until now is retired from this start on, its private part forgotten, as a
      // rotation does (it was published as retired "unknown" when, and kept its seed, until 2026-12-02).
      const keyId = keyIdOf(name, key.publicKey).toString('hex');
      const replaced = (k: StoredKey) => !k.retiredAt && k.keyId !== keyId;
      const at = now();
      const ring = new SigningKeyring(name, file, stored.map((k) => (replaced(k) ? SigningKeyring.retired(k, at) : k)), key, true);
      if (stored.some(replaced)) ring.save();
      return { keyring: ring, created: null };
    }
    const live = stored.find((k) => !k.retiredAt && k.seed);
    if (live) return { keyring: new SigningKeyring(name, file, stored, signingKey(name, Buffer.from(live.seed!, 'base64')), false), created: null };
    const ring = new SigningKeyring(name, file, stored, signingKey(name, SigningKeyring.newSeed()), false);
    ring.keys = [...stored, ring.storedOf(ring.current, now())];
    ring.save();
    return { keyring: ring, created: file };
  }

  /** `k` retired at `at`: published still, its private part gone. */
  private static retired(k: StoredKey, at: string): StoredKey {
    return { name: k.name, keyId: k.keyId, publicKey: k.publicKey, createdAt: k.createdAt, retiredAt: at };
  }

  private static newSeed(): Buffer {
    return rawSeed(generateKeyPairSync('ed25519').privateKey);
  }

  private storedOf(k: SigningKey, createdAt: string): StoredKey {
    return { name: this.name, keyId: keyIdOf(this.name, k.publicKey).toString('hex'), publicKey: k.publicKey.toString('base64'), seed: rawSeed(k.privateKey).toString('base64'), createdAt };
  }

  private save() {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ keys: this.keys }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  signing(): SigningKey {
    return this.current;
  }

  published(): PublishedKey[] {
    const currentId = keyIdOf(this.name, this.current.publicKey).toString('hex');
    const out = new Map<string, PublishedKey>();
    const entry = (name: string, publicKey: Buffer, status: PublishedKey['status'], createdAt?: string, retiredAt?: string): PublishedKey => {
      const keyId = keyIdOf(name, publicKey).toString('hex');
      return {
        name, keyId, publicKey: publicKey.toString('base64'), status,
        ...(createdAt ? { createdAt } : {}), ...(retiredAt ? { retiredAt } : {}),
        verifierKey: `${name}+${keyId}+${Buffer.concat([Buffer.from([1]), publicKey]).toString('base64')}`,
      };
    };
    const stored = this.keys.find((k) => k.keyId === currentId);
    out.set(currentId, entry(this.name, this.current.publicKey, 'current', stored?.createdAt));
    for (const k of this.keys) if (k.keyId !== currentId) out.set(k.keyId, entry(k.name, Buffer.from(k.publicKey, 'base64'), 'retired', k.createdAt, k.retiredAt));
    return [...out.values()];
  }

  /** A new current key; the old one is retired (its private part forgotten), still published. */
  rotate(now: string): PublishedKey {
    if (this.fromEnv) throw new SigningKeyManagedByEnvironment('the signing key comes from PDL_SIGNING_KEY: rotate it there');
    const next = signingKey(this.name, SigningKeyring.newSeed());
    const currentId = keyIdOf(this.name, this.current.publicKey).toString('hex');
    this.keys = [
      ...this.keys.map((k) => (k.keyId === currentId ? SigningKeyring.retired(k, now) : k)),
      this.storedOf(next, now),
    ];
    this.save();
    this.current = next;
    return this.published().find((k) => k.status === 'current')!;
  }
}
