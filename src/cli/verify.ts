import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { DigestedBlock } from './digest-worker.js';
import { bodyText, keyIdOf, openNote, parseBody, verifyNote } from '../integrity/domain/checkpoint.js';
import { LogVerifier, type ExpectedRoot, type Tampering } from '../integrity/domain/log-verifier.js';

export interface VerifyArgs {
  readonly file: string;
  readonly checkpoint?: string;
  readonly previous: readonly string[];
  readonly keys: readonly string[];
}

interface PublicKey { readonly name?: string; readonly key: Buffer }

export class UsageError extends Error {}

/** Refuses, as a usage error, a path that names no file or a directory (read, a directory fails with a bare EISDIR). */
export function requireFile(path: string): void {
  const kind = statSync(path, { throwIfNoEntry: false });
  if (!kind) throw new UsageError(`no such file: ${path}`);
  if (kind.isDirectory()) throw new UsageError(`${path} is a directory, not a file`);
}

/** `--key`: a raw base64 key, a note verifier key (`name+id+base64(0x01‖key)`), or a file with either or with the `/v1/keys` JSON. */
export function parseKeys(values: readonly string[]): PublicKey[] {
  const out: PublicKey[] = [];
  const one = (text: string): PublicKey[] => {
    const s = text.trim();
    if (s.startsWith('{') || s.startsWith('[')) {
      const j = JSON.parse(s) as unknown;
      const list = (Array.isArray(j) ? j : ((j as { items?: unknown[]; keys?: unknown[] }).items ?? (j as { keys?: unknown[] }).keys ?? [j])) as Array<{ name?: string; publicKey?: string }>;
      return list.filter((k) => typeof k.publicKey === 'string').map((k) => ({ ...(k.name ? { name: k.name } : {}), key: Buffer.from(k.publicKey!, 'base64') }));
    }
    const vk = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(s);
    if (vk) {
      const raw = Buffer.from(vk[3]!, 'base64');
      if (raw.length !== 33 || raw[0] !== 1) throw new UsageError('a verifier key must carry an Ed25519 key (algorithm 1)');
      const key = raw.subarray(1);
      if (keyIdOf(vk[1]!, key).toString('hex') !== vk[2]) throw new UsageError('the verifier key\'s id does not match its name and key');
      return [{ name: vk[1]!, key }];
    }
    const raw = Buffer.from(s, 'base64');
    if (raw.length !== 32) throw new UsageError('a public key is 32 bytes, base64');
    return [{ key: raw }];
  };
  for (const v of values) out.push(...one(existsSync(v) ? readFileSync(v, 'utf8') : v));
  return out;
}

interface LoadedCheckpoint extends ExpectedRoot { readonly origin: string | null; readonly note: string | null }

function loadCheckpoint(file: string, what: string): LoadedCheckpoint {
  let j: { treeSize?: unknown; rootHash?: unknown; note?: unknown };
  try {
    j = JSON.parse(readFileSync(file, 'utf8')) as typeof j;
  } catch (e) {
    throw new UsageError(`${what} ${file} is not a checkpoint JSON file (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof j.note === 'string') {
    const opened = openNote(j.note);
    const body = opened ? parseBody(opened.text) : null;
    if (!opened || !body || bodyText(body) !== opened.text) throw new UsageError(`${what} ${file}: its note is not a signed tlog checkpoint`);
    if ((j.treeSize !== undefined && Number(j.treeSize) !== body.treeSize) || (typeof j.rootHash === 'string' && j.rootHash !== body.rootHash.toString('hex'))) {
      throw new UsageError(`${what} ${file}: treeSize/rootHash differ from the signed note; the JSON fields were altered`);
    }
    return { treeSize: body.treeSize, rootHash: body.rootHash, origin: body.origin, note: j.note, label: `${what} (${body.origin} @ ${body.treeSize})` };
  }
  const size = Number(j.treeSize);
  if (!Number.isSafeInteger(size) || size < 1 || typeof j.rootHash !== 'string' || !/^[0-9a-f]{64}$/.test(j.rootHash)) throw new UsageError(`${what} ${file} has no treeSize and rootHash`);
  return { treeSize: size, rootHash: Buffer.from(j.rootHash, 'hex'), origin: null, note: null, label: `${what} (@ ${size})` };
}

const IN_FLIGHT = 3;

/**
 * Feeds `file` to `verifier`, streaming: this thread reads blocks of whole lines and folds the tree,
 * a worker digests each block (leaf hashes, positions, `prev`) meanwhile. Stops at the first problem.
 */
export async function verifyFile(file: string, verifier: LogVerifier, chunkSize = 1 << 19): Promise<Tampering | null> {
  const worker = new Worker(new URL('./digest-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 } });
  const waiting: Array<{ resolve: (b: DigestedBlock) => void; reject: (e: Error) => void }> = [];
  const ready: Array<Promise<DigestedBlock>> = [];
  let failed: Error | null = null;
  const fail = (e: Error) => {
    failed ??= e;
    for (const w of waiting.splice(0)) w.reject(failed);
  };
  worker.on('message', (b: DigestedBlock) => waiting.shift()?.resolve(b));
  worker.on('error', fail);
  worker.on('exit', (code) => { if (waiting.length) fail(new Error(`the digesting thread stopped (exit code ${code})`)); });
  let problem: Tampering | null = null;
  let next = 0;
  const fold = (b: DigestedBlock) => {
    for (let j = 0; j < b.count && !problem; j++) {
      const position = b.positions[j]!;
      const plen = b.prevLengths[j]!;
      problem = verifier.entry({
        position: Number.isNaN(position) ? null : position,
        leaf: Buffer.from(b.leaves.buffer, 32 * j, 32),
        prev: plen === 255 ? null : Buffer.from(b.prevs.buffer, 32 * j, plen),
      });
    }
  };
  const send = (block: Buffer) => {
    const copy = new Uint8Array(block.length);
    copy.set(block);
    if (failed) throw failed;
    const answer = new Promise<DigestedBlock>((resolve, reject) => waiting.push({ resolve, reject }));
    answer.catch(() => undefined); // answers left unread after a verdict are dropped with the thread
    ready.push(answer);
    worker.postMessage({ id: next++, block: copy }, [copy.buffer]);
  };
  try {
    let rest: Buffer = Buffer.alloc(0);
    for await (const data of createReadStream(file, { highWaterMark: chunkSize })) {
      const chunk = rest.length ? Buffer.concat([rest, data as Buffer]) : (data as Buffer);
      const cut = chunk.lastIndexOf(10);
      if (cut < 0) { rest = chunk; continue; }
      send(chunk.subarray(0, cut + 1));
      rest = Buffer.from(chunk.subarray(cut + 1));
      while (ready.length >= IN_FLIGHT && !problem) fold(await ready.shift()!);
      if (failed) throw failed;
      if (problem) return problem;
    }
    if (rest.length) send(rest);
    while (ready.length && !problem) fold(await ready.shift()!);
    if (failed) throw failed;
    return problem ?? verifier.end();
  } finally {
    await worker.terminate();
  }
}

/**
 * `pdl verify <export.ndjson> [--checkpoint cp.json] [--key …] [--previous older.json]`: offline and
 * streaming. Exit 0 when intact, 1 when something was altered (naming the first bad position), 2 when
 * the inputs cannot be used.
 */
export async function verifyExport(args: VerifyArgs, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const checkpoints: LoadedCheckpoint[] = [];
  if (args.checkpoint) checkpoints.push(loadCheckpoint(args.checkpoint, 'the checkpoint'));
  for (const p of args.previous) checkpoints.push(loadCheckpoint(p, 'the previous checkpoint'));
  const origins = new Set(checkpoints.map((c) => c.origin).filter((o) => o !== null));
  if (origins.size > 1) {
    err(`FAILED: the checkpoints name different logs (${[...origins].join(', ')})`);
    return 1;
  }
  const keys = parseKeys(args.keys);
  for (const c of checkpoints) {
    if (!c.note) { err(`warning: ${c.label} carries no signed note: its signature cannot be checked`); continue; }
    if (keys.length === 0) { err(`warning: no --key given: the signature of ${c.label} is not checked`); continue; }
    const names = openNote(c.note)!.signatures.map((s) => s.name);
    const ok = keys.some((k) => (k.name ? [k.name] : names).some((name) => verifyNote(c.note!, name, k.key)));
    if (!ok) {
      err(`FAILED: the signature of ${c.label} does not verify with the given key(s)`);
      return 1;
    }
    out(`signature of ${c.label} verifies`);
  }
  const verifier = new LogVerifier(checkpoints);
  requireFile(args.file);
  const problem = await verifyFile(args.file, verifier);
  if (problem) {
    err(`FAILED at position ${problem.position}: ${problem.problem}`);
    return 1;
  }
  for (const c of verifier.checked) out(c);
  const covered = checkpoints.length ? Math.max(...checkpoints.map((c) => c.treeSize)) : 0;
  out(`ok: ${verifier.size} entries, positions and chain intact${checkpoints.length ? `; the first ${covered} match the checkpoint root` : ' (no checkpoint given: the root was not compared)'}${verifier.size > covered && checkpoints.length ? `; ${verifier.size - covered} later entries are not covered by it` : ''}`);
  return 0;
}
