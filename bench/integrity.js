// pdl integrity benchmark: offline verification rate vs raw SHA-256 over the same lines, proof generation
// latency on a 1,000,000-leaf tree, peak RSS of `pdl verify`. `npm run bench` (after `npm run build`).
// Results: printed, and written to bench/results/integrity-<time>.{json,md}.
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { canonicalBytes, leafHash } from '../dist/ledger/domain/canonical.js';
import { merkleProjection, SqliteMerkleTree } from '../dist/integrity/sqlite/sqlite-merkle.js';
import { rawPublicKey, signCheckpoint } from '../dist/integrity/domain/checkpoint.js';
import { verifyConsistency, verifyInclusion } from '../dist/integrity/domain/merkle.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_LEAVES || 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'pdl-integrity-'));
const results = { date: new Date().toISOString(), leaves: N, node: process.version };
const STREAM = 'ledger-acme';

// 1. A tenant log of N entries shaped like the ledger's (sealed identifier, details, chain), and its tree,
//    stored by the ledger's own Merkle projection.
const file = join(dir, 'log.ndjson');
const out = createWriteStream(file, { highWaterMark: 1 << 22 });
const db = new Database(join(dir, 'tree.db'));
db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL');
const projection = merkleProjection(db);
let prev;
let t0 = performance.now();
let pending = [];
const flush = db.transaction((rows) => projection.apply(db, rows));
for (let i = 0; i < N; i++) {
  const entry = {
    v: 1, tenant: 'acme', position: i, eventId: randomUUID(), type: 'collected', recordedAt: '2026-03-01T10:00:00.123Z', occurredAt: '2026-03-01T10:00:00Z',
    subject: { id: `visitor:${i % 50_000}`, identifiers: [{ kind: 'ip', category: 'user.device.ip_address', ciphertext: `AQAAAAG${createHash('sha256').update(String(i)).digest('base64url')}${'x'.repeat(40)}` }] },
    categories: ['user.device.ip_address'], purpose: 'visitor-session', system: 'core', actor: { type: 'service', id: 'chatbox-api' }, details: { source: 'observed' },
    ...(prev ? { prev } : {}),
  };
  const data = canonicalBytes(entry);
  prev = leafHash(data).toString('hex');
  if (!out.write(Buffer.concat([data, Buffer.from('\n')]))) await new Promise((r) => out.once('drain', r));
  pending.push({ recorded: { stream: STREAM, revision: i, data } });
  if (pending.length === 10_000) { flush(pending); pending = []; }
}
if (pending.length) flush(pending);
await new Promise((r) => out.end(r));
results.build_seconds = (performance.now() - t0) / 1000;
console.log(`log of ${N} entries written and its tree stored in ${results.build_seconds.toFixed(1)} s`);

const tree = new SqliteMerkleTree(db);
const root = tree.root(STREAM, N);
const { privateKey } = generateKeyPairSync('ed25519');
const key = { name: 'bench.pdl', privateKey, publicKey: rawPublicKey(privateKey) };
const cp = signCheckpoint({ origin: 'bench.pdl/acme', treeSize: N, rootHash: root, timestamp: new Date().toISOString() }, key);
const cpFile = join(dir, 'cp.json');
writeFileSync(cpFile, JSON.stringify({ treeSize: N, rootHash: root.toString('hex'), note: cp.note }));

// 2. Proof generation from the stored tree: inclusion at the full size and at earlier sizes, consistency.
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const inclusion = [];
const consistency = [];
for (let k = 0; k < 20_000; k++) {
  const size = k % 2 ? N : 1 + Math.floor(Math.random() * N);
  const index = Math.floor(Math.random() * size);
  const s = performance.now();
  const path = tree.inclusion(STREAM, index, size);
  inclusion.push(performance.now() - s);
  if (k < 50 && !verifyInclusion(index, size, tree.leafHash(STREAM, index), path, tree.root(STREAM, size))) throw new Error('an inclusion proof does not verify');
}
for (let k = 0; k < 5_000; k++) {
  const to = 1 + Math.floor(Math.random() * N);
  const from = 1 + Math.floor(Math.random() * to);
  const s = performance.now();
  const proof = tree.consistency(STREAM, from, to);
  consistency.push(performance.now() - s);
  if (k < 50 && !verifyConsistency(from, to, proof, tree.root(STREAM, from), tree.root(STREAM, to))) throw new Error('a consistency proof does not verify');
}
results.inclusion_ms = { p50: pct(inclusion, 50), p99: pct(inclusion, 99), max: Math.max(...inclusion) };
results.consistency_ms = { p50: pct(consistency, 50), p99: pct(consistency, 99), max: Math.max(...consistency) };
console.log(`inclusion proof on ${N} leaves: p50 ${results.inclusion_ms.p50.toFixed(3)} ms, p99 ${results.inclusion_ms.p99.toFixed(3)} ms (target <= 5 ms)`);
console.log(`consistency proof:             p50 ${results.consistency_ms.p50.toFixed(3)} ms, p99 ${results.consistency_ms.p99.toFixed(3)} ms`);
db.close();

// 3. Raw SHA-256 over the same lines (streamed the same way), then `pdl verify` as a user runs it.
t0 = performance.now();
let lines = 0;
let rest = Buffer.alloc(0);
for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
  const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
  let start = 0;
  for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) { createHash('sha256').update(buf.subarray(start, nl)).digest(); lines++; start = nl + 1; }
  rest = Buffer.from(buf.subarray(start));
}
results.raw_sha256_lines_per_s = lines / ((performance.now() - t0) / 1000);
console.log(`raw SHA-256 over the lines:    ${Math.round(results.raw_sha256_lines_per_s)} lines/s`);

const verify = await new Promise((resolve) => {
  const s = performance.now();
  const p = spawn(process.execPath, [join(ROOT, 'bin', 'pdl.js'), 'verify', file, '--checkpoint', cpFile, '--key', key.publicKey.toString('base64')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let hwm = 0; let text = '';
  const poll = setInterval(() => { try { hwm = Math.max(hwm, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))[1]) / 1024); } catch { /* exited */ } }, 50);
  p.stdout.on('data', (d) => { text += d; }); p.stderr.on('data', (d) => { text += d; });
  p.on('exit', (code) => { clearInterval(poll); resolve({ code, seconds: (performance.now() - s) / 1000, hwm, text }); });
});
if (verify.code !== 0) throw new Error(`pdl verify failed: ${verify.text}`);
results.verify_entries_per_s = N / verify.seconds;
results.verify_peak_rss_mb = verify.hwm;
results.verify_ratio = results.verify_entries_per_s / results.raw_sha256_lines_per_s;
console.log(`pdl verify (whole process):    ${Math.round(results.verify_entries_per_s)} entries/s = ${results.verify_ratio.toFixed(2)} x raw SHA-256 (target >= 0.5); peak RSS ${Math.round(verify.hwm)} MB (target <= 150 MB)`);
if (process.env.BENCH_KEEP) console.log(`kept ${dir}`); else rmSync(dir, { recursive: true, force: true });

mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
const stamp = results.date.replace(/[:.]/g, '-');
writeFileSync(join(ROOT, 'bench', 'results', `integrity-${stamp}.json`), JSON.stringify(results, null, 2) + '\n');
writeFileSync(join(ROOT, 'bench', 'results', `integrity-${stamp}.md`), `| measure (${N} entries) | value | target |\n|---|---|---|\n`
  + `| raw SHA-256 over the lines | ${Math.round(results.raw_sha256_lines_per_s)} lines/s | |\n`
  + `| pdl verify | ${Math.round(results.verify_entries_per_s)} entries/s (${results.verify_ratio.toFixed(2)} x raw) | >= 0.5 x |\n`
  + `| pdl verify peak RSS | ${Math.round(results.verify_peak_rss_mb)} MB | <= 150 MB |\n`
  + `| inclusion proof p50 / p99 | ${results.inclusion_ms.p50.toFixed(3)} / ${results.inclusion_ms.p99.toFixed(3)} ms | p99 <= 5 ms |\n`
  + `| consistency proof p50 / p99 | ${results.consistency_ms.p50.toFixed(3)} / ${results.consistency_ms.p99.toFixed(3)} ms | |\n`
  + `| building the log and its stored tree | ${results.build_seconds.toFixed(1)} s | |\n`);
