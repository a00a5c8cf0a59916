// What the benchmarks share: the events, the tenant's declarations, a ledger started as `npm start`
// starts it, and a keep-alive HTTP load generator (node:http: fetch is ten times slower under load here).
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { binNodeFlags } from '../dist/cli/node-flags.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SECONDS = Number(process.env.BENCH_SECONDS || 6);
// Every directory a run makes goes under one, removed when the run ends (BENCH_KEEP=1 keeps it): the
// stores of a run of bench/run.js alone take a few hundred MB.
const RUN_DIR = mkdtempSync(join(tmpdir(), 'pdl-bench-run-'));
process.on('exit', () => {
  if (process.env.BENCH_KEEP) { console.log(`kept ${RUN_DIR}`); return; }
  try { rmSync(RUN_DIR, { recursive: true, force: true, maxRetries: 3 }); } catch (e) { console.error(`could not remove ${RUN_DIR}: ${e.message}`); }
});
export const tmp = (p) => mkdtempSync(join(RUN_DIR, p));
export const ev = (i) => ({ eventId: randomUUID(), type: 'collected', subject: { id: `perf-${i % 5000}`, identifiers: { ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` } },
  categories: ['user.device.ip_address'], purpose: 'visitor-session', system: 'core', occurredAt: '2026-03-01T10:00:00Z', details: { source: 'observed' } });
export const timed = async (fn, seconds = SECONDS) => { let n = 0; const t0 = performance.now(); const end = t0 + seconds * 1000; n = await fn(end); return n / ((performance.now() - t0) / 1000); };

// The tenant of every pdl contender declares what the events do, so that the rules judge lawful processing.
export const PURPOSE = { title: 'Keep the chat session', legalBasis: 'legitimate-interests', categories: ['user.device.ip_address'], retention: { period: 'PT30M', from: 'last-activity' } };
export const SYSTEM = { name: 'Core', country: 'NL' };
/** `n` ports free now, all different (held open together, so that none is handed out twice). */
export async function freePorts(n) {
  const servers = Array.from({ length: n }, () => net.createServer());
  const ports = await Promise.all(servers.map((s) => new Promise((res) => s.listen(0, '127.0.0.1', () => res(s.address().port)))));
  await Promise.all(servers.map((s) => new Promise((res) => s.close(res))));
  return ports;
}
export const freePort = async () => (await freePorts(1))[0];
const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
export function post(port, path, token, body) {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, method: 'POST', path, agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': payload.length } }, (res) => {
      const chunks = []; res.on('data', (c) => chunks.push(c)); res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    r.on('error', reject); r.end(payload);
  });
}
export const put = (port, path, token, body) => new Promise((resolve, reject) => { const p = Buffer.from(JSON.stringify(body));
  const r = http.request({ host: '127.0.0.1', port, method: 'PUT', path, agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': p.length } }, (res) => { res.resume(); res.on('end', resolve); }); r.on('error', reject); r.end(p); });

/** The Node flags `bin/pdl.js` (and `npm start`: a test checks that they agree) run the ledger with: its heap limits. */
export const START_FLAGS = binNodeFlags(join(ROOT, 'bin', 'pdl.js'));

/** A ledger process; with `join`, one more process on the same backend, serving the tenant `join` declared (with its token). */
export async function server(env = {}, { join: joined } = {}) {
  const [httpPort, grpcPort] = await freePorts(2);
  const root = `bench-${randomUUID()}`;
  // Started as `npm start` starts it, with the same Node flags (the heap limit), without the build step;
  // BENCH_SERVER_FLAGS come after them, so that an experiment's flag overrides theirs.
  const proc = spawn(process.execPath, [...START_FLAGS, ...(process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean), join(ROOT, 'bin', 'pdl.js'), 'serve'], { env: { ...process.env, PDL_DATA_DIR: tmp('pdl-bench-'), PDL_HTTP_PORT: String(httpPort), PDL_GRPC_PORT: String(grpcPort), PDL_ADMIN_TOKEN: root, PDL_LOG_LEVEL: process.env.PDL_LOG_LEVEL || 'warn', PDL_HOST: '127.0.0.1', ...env }, stdio: process.env.BENCH_STDIO ? 'inherit' : 'ignore' });
  for (let i = 0; i < 200; i++) { try { await new Promise((res, rej) => http.get(`http://127.0.0.1:${httpPort}/health`, (r) => { r.resume(); r.statusCode === 200 ? res() : rej(); }).on('error', rej)); break; } catch { await new Promise((r) => setTimeout(r, 100)); } }
  const peakRss = () => { try { return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))[1]) / 1024; } catch { return NaN; } };
  if (joined) return { httpPort, grpcPort, token: joined.token, proc, peakRss };
  await put(httpPort, '/v1/tenants/acme', root, { name: 'Bench' });
  await put(httpPort, '/v1/tenants/acme/purposes/visitor-session', root, PURPOSE);
  await put(httpPort, '/v1/tenants/acme/systems/core', root, SYSTEM);
  const token = JSON.parse((await post(httpPort, '/v1/tenants/acme/tokens', root, { role: 'emitter' })).text).token;
  return { httpPort, grpcPort, token, proc, peakRss, adminToken: root };
}

export async function overHttp(srv, clients, size, seconds = SECONDS) {
  let i = 0, errors = 0;
  const rate = await timed(async (end) => { let done = 0;
    await Promise.all(Array.from({ length: clients }, async () => { while (performance.now() < end) {
      const r = await post(srv.httpPort, '/v1/tenants/acme/events', srv.token, { events: Array.from({ length: size }, () => ev(i++)) });
      if (r.status === 200) done += size; else { errors++; if (errors < 3) console.error("non-200", r.status, r.text.slice(0, 300)); }
    } }));
    return done; }, seconds);
  return { rate, errors };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/**
 * How fast this machine is right now, for reading results across runs (its speed swings from hour to
 * hour): `cpu_ms`, the median of 5 runs of a fixed CPU-bound task (JSON of 1,000 events parsed and written
 * 10 times, 16 MB hashed); `fsync_ms`, the median of 20 writes of 4 KB each made durable, in the temporary directory.
 */
export function machineSpeed() {
  const doc = JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ ...ev(i), eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` })));
  const block = Buffer.alloc(16 * 1024 * 1024, 7);
  const cpu = Array.from({ length: 5 }, () => {
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) JSON.stringify(JSON.parse(doc));
    createHash('sha256').update(block).digest();
    return performance.now() - t0;
  });
  const dir = tmp('pdl-fsync-');
  const fd = openSync(join(dir, 'probe'), 'w');
  const page = Buffer.alloc(4096, 1);
  const sync = Array.from({ length: 20 }, () => { const t0 = performance.now(); writeSync(fd, page); fsyncSync(fd); return performance.now() - t0; });
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return { cpu_ms: Math.round(median(cpu) * 10) / 10, fsync_ms: Math.round(median(sync) * 100) / 100 };
}

/** The PostgreSQL server the benchmarks create their scratch databases on. */
export const POSTGRES_BASE = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Runs `work` with the URL of a new database of `POSTGRES_BASE`, dropped afterwards whatever happens. */
export async function withPostgresDatabase(work) {
  const { default: pg } = await import('pg');
  const name = `pdl_bench_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const admin = new pg.Client({ connectionString: POSTGRES_BASE });
  await admin.connect();
  await admin.query(`create database ${name}`);
  try {
    const u = new URL(POSTGRES_BASE);
    u.pathname = `/${name}`;
    return await work(u.toString());
  } catch (e) {
    console.error(`failed: ${e.message}`);
    throw e;
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
    await admin.end();
  }
}

/** A `machineSpeed()` reading as the benchmarks print it and write it into their results. */
export const machineText = (m) => `${m.cpu_ms} ms for the fixed CPU task, ${m.fsync_ms} ms an fsync (\`machineSpeed\` in bench/common.js)`;

/**
 * The machine's CPU counters (all processes, all cores), from /proc/stat; null where there is none. Busy:
 * user, nice, system, irq and softirq; idle, I/O wait and steal (another guest's turn) are not. The guest
 * columns after steal are left out: the kernel counts them in user time already.
 */
function cpuCounters() {
  try {
    const lines = readFileSync('/proc/stat', 'utf8').split('\n');
    const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = lines[0].trim().split(/\s+/).slice(1).map(Number);
    const busy = user + nice + system + irq + softirq;
    return { busy, total: busy + idle + iowait + steal, cores: lines.filter((l) => /^cpu\d/.test(l)).length };
  } catch {
    return null;
  }
}

/**
 * Runs `work` and says how many of the machine's cores were busy meanwhile (every process: the ledger,
 * the load generator, the database server), averaged over its run: a contender at the machine's core
 * count is bound by CPU, one well below it by something else (a lock, a round trip, an fsync).
 */
export async function withBusyCores(work) {
  const before = cpuCounters();
  const value = await work();
  const after = cpuCounters();
  const cores = before && after && after.total > before.total ? Math.round(((after.busy - before.busy) / (after.total - before.total)) * after.cores * 100) / 100 : null;
  return { value, cores };
}
