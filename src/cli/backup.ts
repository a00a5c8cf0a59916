import { createHash } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, createReadStream, existsSync, fsyncSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Frontier } from '../integrity/domain/merkle.js';
import { MerkleNodes } from '../integrity/sqlite/sqlite-merkle.js';
import { requireEmbeddedLedger } from '../storage/open-storage.js';
import { makeDirectory } from '../common/fs/make-directory.js';
import { UsageError } from './verify.js';
import { EARLIER_LAYOUT, hasMerkleLayout, tenantLogs, verifyStore } from './verify-store.js';
import { tenantStream } from '../ledger/domain/streams.js';

export interface BackupOptions {
  /** The data directory of the embedded ledger (it may be serving meanwhile). */
  readonly dataDir: string;
  /** Where the copy goes: a directory that does not exist yet, or an empty one. */
  readonly out: string;
  /** Where the copy of `keys.db` goes (`out` itself, or a directory of its own), if it is wanted. */
  readonly keysTo?: string;
}

/** A file of the copy: its name, and the directory it went into. */
interface Copied { readonly file: string; readonly dir: string }

/** A directory made for the copy (0700): refused when it holds anything already, so that nothing is ever written over. */
function freshDirectory(dir: string, what: string): boolean {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new UsageError(`${what} ${dir} is a file, not a directory`);
    if (readdirSync(dir).length > 0) throw new UsageError(`${what} ${dir} is not empty: a backup never writes over anything`);
    return false;
  }
  makeDirectory(dir, 0o700);
  return true;
}

/** Makes a file, and its directory's entry for it, durable. */
function fsyncFile(file: string): void {
  for (const path of [file, resolve(file, '..')]) {
    const fd = openSync(path, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  }
}

const sha256Of = (file: string) => new Promise<string>((done, fail) => {
  const h = createHash('sha256');
  createReadStream(file).on('data', (d) => h.update(d)).on('end', () => done(h.digest('hex'))).on('error', fail);
});

/**
 * One SQLite file copied as one consistent snapshot: `VACUUM INTO` reads it in a single read transaction
 * (beside a server that keeps committing: WAL readers do not stop writers) and writes a compacted copy,
 * which holds no free pages, so nothing deleted (a destroyed key) survives in it.
 */
function copyDatabase(from: string, dir: string, written: string[]): Copied {
  const to = join(dir, basename(from));
  const db = new Database(from, { readonly: true, fileMustExist: true });
  try {
    written.push(to);
    db.prepare('vacuum into ?').run(to);
  } finally {
    db.close();
  }
  chmodSync(to, 0o600);
  fsyncFile(to);
  return { file: basename(from), dir };
}

/** Each tenant's log in the copy: its entries, and its Merkle root. */
function tenantsOf(ledgerCopy: string): Array<{ tenant: string; treeSize: number; rootHash: string }> {
  const db = new Database(ledgerCopy, { readonly: true, fileMustExist: true });
  try {
    if (!hasMerkleLayout(db)) throw new UsageError(`${EARLIER_LAYOUT}, then back it up`);
    const tree = new MerkleNodes(db);
    return tenantLogs(db).map((tenant) => {
      const stream = tenantStream(tenant);
      const size = tree.size(stream);
      return { tenant, treeSize: size, rootHash: Frontier.at(tree.source(stream), size).root().toString('hex') };
    });
  } finally {
    db.close();
  }
}

/**
 * The blind index's checkpoints in the keys' copy brought back to the log's copy: `keys.db` is copied after
 * `ledger.db` (so that it holds the data key of every entry copied), and its index may already cover
 * positions that the log's copy does not hold. On the copy, a restored ledger gives those positions to new
 * entries, whose index rows are written some seconds later; after a crash in between, a checkpoint past
 * them would keep them from ever being indexed again from the log.
 */
export function clampBlindIndex(keysCopy: string, tenants: ReadonlyArray<{ tenant: string; treeSize: number }>): void {
  const db = new Database(keysCopy, { fileMustExist: true });
  try {
    const heads = new Map(tenants.map((t) => [t.tenant, t.treeSize - 1]));
    db.transaction(() => {
      for (const { tenant, position } of db.prepare('select tenant, position from blind_index_checkpoint').all() as Array<{ tenant: string; position: number }>) {
        const head = heads.get(tenant) ?? -1;
        if (position > head) db.prepare('update blind_index_checkpoint set position = ? where tenant = ?').run(head, tenant);
      }
    })();
  } finally {
    db.close();
  }
  fsyncFile(keysCopy);
}

/**
 * `pdl backup <dir> [--keys <dir>] [--data-dir <dir>]`: a consistent copy of an embedded ledger, taken
 * beside the running server without stopping it. `checkpoints.db` first, then `signing-keys.json`, then
 * `ledger.db` (so every checkpoint copied is of a log at least as long, and signed by a key copied), then,
 * when asked, `keys.db` (so it holds the data key of every entry copied). Never the master key nor the admin
 * token. The copy is a data directory: it is checked as `pdl verify --data-dir` checks one, and a ledger
 * started on it (with the master key) serves it. `backup.json` lists its files with their SHA-256 and
 * each tenant's tree size and root at the copy.
 */
export async function backup(options: BackupOptions, out: (s: string) => void, warn: (s: string) => void): Promise<number> {
  const dataDir = resolve(options.dataDir);
  const ledgerFile = join(dataDir, 'ledger.db');
  requireEmbeddedLedger(options.dataDir);
  const target = resolve(options.out);
  const keysTo = options.keysTo === undefined ? undefined : resolve(options.keysTo);
  if (target === dataDir || keysTo === dataDir) throw new UsageError('a backup goes into another directory than the ledger it copies');
  if (keysTo !== undefined && !existsSync(join(dataDir, 'keys.db'))) throw new UsageError(`${options.dataDir} holds no key store (no keys.db) to copy`);
  const made: string[] = [];
  const written: string[] = [];
  const started = Date.now();
  try {
    if (freshDirectory(target, 'the backup directory')) made.push(target);
    if (keysTo !== undefined && keysTo !== target && freshDirectory(keysTo, 'the keys directory')) made.push(keysTo);
    const copied: Copied[] = [];
    if (existsSync(join(dataDir, 'checkpoints.db'))) copied.push(copyDatabase(join(dataDir, 'checkpoints.db'), target, written));
    const signingKeys = join(dataDir, 'signing-keys.json');
    if (existsSync(signingKeys)) {
      const to = join(target, 'signing-keys.json');
      written.push(to);
      copyFileSync(signingKeys, to);
      chmodSync(to, 0o600);
      fsyncFile(to);
      copied.push({ file: 'signing-keys.json', dir: target });
    }
    copied.push(copyDatabase(ledgerFile, target, written));
    const tenants = tenantsOf(join(target, 'ledger.db'));
    if (keysTo !== undefined) {
      copied.push(copyDatabase(join(dataDir, 'keys.db'), keysTo, written));
      clampBlindIndex(join(keysTo, 'keys.db'), tenants);
    }
    const files = await Promise.all(copied.map(async ({ file, dir }) => ({
      file, bytes: statSync(join(dir, file)).size, sha256: await sha256Of(join(dir, file)), ...(dir !== target ? { apart: true } : {}),
    })));
    const manifest = { takenAt: new Date(started).toISOString(), files, tenants, keys: keysTo === undefined ? 'not copied' : keysTo === target ? 'copied' : 'copied apart' };
    written.push(join(target, 'backup.json'));
    writeFileSync(join(target, 'backup.json'), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    fsyncFile(join(target, 'backup.json'));
    const checked = await verifyStore(target, undefined, () => undefined, (s) => warn(`the copy: ${s}`));
    if (checked === 1) {
      warn('the copy does not verify: it is kept for inspection, but do not rely on it');
      return 1;
    }
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    out(`backed up ${options.dataDir} into ${options.out} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${files.map((f) => `${f.file} ${mb(f.bytes)}${'apart' in f ? ` (into ${options.keysTo})` : ''}`).join(', ')}`);
    for (const t of tenants) out(`  ${t.tenant}: ${t.treeSize} entries, root ${t.rootHash}`);
    out(`the copy verifies${tenants.length === 0 ? ' (no tenant yet)' : ''}; backup.json lists its files and roots`);
    out(keysTo === undefined
      ? 'keys.db was not copied (--keys <dir> copies it): restored alone, the copy proves the log, and every personal value in it reads as erased'
      : 'the master key was not copied: keep it apart from this backup, and keep keys.db no longer than the time within which an erasure must be honoured');
    return 0;
  } catch (e) {
    // A copy that failed halfway is not a backup: what this run made goes.
    for (const file of written) rmSync(file, { force: true });
    for (const dir of made.reverse()) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * `pdl verify --backup <dir> [--keys <dir>]`: a backup as `pdl backup` left it: every file its
 * `backup.json` lists, byte for byte (size and SHA-256; `keys.db` taken apart is looked for in `keysDir`),
 * then the log it holds, as `pdl verify --data-dir` checks a store. A data directory a ledger was started
 * on since is no longer the backup: its files have changed.
 */
export async function verifyBackup(dir: string, keysDir: string | undefined, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const manifestFile = join(dir, 'backup.json');
  if (!existsSync(manifestFile)) throw new UsageError(`${dir} holds no backup.json: it is not a backup made by pdl backup`);
  let manifest: { takenAt?: string; files?: Array<{ file: string; bytes: number; sha256: string; apart?: boolean }> };
  try { manifest = JSON.parse(readFileSync(manifestFile, 'utf8')); } catch { throw new UsageError(`${manifestFile} is not JSON`); }
  if (!Array.isArray(manifest.files)) throw new UsageError(`${manifestFile} lists no files`);
  let failed = 0;
  for (const f of manifest.files) {
    if (typeof f.file !== 'string' || basename(f.file) !== f.file) throw new UsageError(`${manifestFile} names a file outside the backup`);
    const where = f.apart ? keysDir : dir;
    if (where === undefined) { out(`not checked: ${f.file} (taken apart: give --keys <dir>)`); continue; }
    const file = join(where, f.file);
    if (!existsSync(file)) { failed++; err(`FAILED ${f.file}: missing`); continue; }
    const [bytes, sha256] = [statSync(file).size, await sha256Of(file)];
    if (bytes !== f.bytes || sha256 !== f.sha256) { failed++; err(`FAILED ${f.file}: differs from the backup (${bytes} bytes, SHA-256 ${sha256.slice(0, 16)}…; the backup says ${f.bytes} bytes, ${String(f.sha256).slice(0, 16)}…)`); }
    else out(`ok ${f.file}`);
  }
  if (failed) return 1;
  const log = await verifyStore(dir, undefined, out, err);
  if (log === 0) out(`the backup taken ${manifest.takenAt ?? '(no date)'} is intact`);
  return log;
}
