// pdl erasure benchmark, over HTTP against `pdl serve`: the ingest cost of encryption (the same events
// with and without an identifier to seal, same run), forgetting many subjects (erasures that destroy a
// key each: keys destroyed per second), and a report's latency before and after that mass erasure.
// `node bench/erasure.js` (after `npm run build`); BENCH_SUBJECTS (default 100000).
// Results: printed, and written to bench/results/erasure-<time>.{json,md}.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonRequest } from '../dist/common/http/json-request.js';
import { freePort, ROOT } from './common.js';

const N = Number(process.env.BENCH_SUBJECTS || 100_000);
const dir = mkdtempSync(join(tmpdir(), 'pdl-erasure-'));
const results = { date: new Date().toISOString(), node: process.version, subjects: N };
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const round = (x) => Math.round(x * 10) / 10;
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const port = await freePort();
const admin = `bench-${randomUUID()}`;
const call = (method, path, token, body) => jsonRequest(`http://127.0.0.1:${port}`, method, path, { token, body, agent });
const server = spawn(process.execPath, [join(ROOT, 'bin', 'pdl.js'), 'serve'], { env: { ...process.env, NODE_OPTIONS: '', PDL_DATA_DIR: dir, PDL_HTTP_PORT: String(port), PDL_GRPC_PORT: '0', PDL_HOST: '127.0.0.1', PDL_ADMIN_TOKEN: admin, PDL_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] });
let peak = 0;
const rss = setInterval(() => { try { const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8')); if (m) peak = Math.max(peak, Number(m[1]) / 1024); } catch { /* gone */ } }, 200);
for (let i = 0; ; i++) { try { if ((await call('GET', '/health', '')).status === 200) break; } catch { /* not yet */ } if (i > 300) throw new Error('server did not start'); await new Promise((r) => setTimeout(r, 100)); }

const tokens = {};
for (const tenant of ['sealed', 'plain']) {
  await call('PUT', `/v1/tenants/${tenant}`, admin, { name: tenant });
  for (const role of ['dpo', 'emitter']) tokens[`${tenant}-${role}`] = (await call('POST', `/v1/tenants/${tenant}/tokens`, admin, { role })).json.token;
  await call('PUT', `/v1/tenants/${tenant}/systems/core`, tokens[`${tenant}-dpo`], { name: 'Core', country: 'NL' });
  await call('PUT', `/v1/tenants/${tenant}/purposes/session`, tokens[`${tenant}-dpo`], { title: 'Session', legalBasis: 'legitimate-interests', categories: ['user.device.ip_address'], retention: { period: 'P1D', from: 'collection' } });
}
const event = (tenant, i, type) => ({
  eventId: randomUUID(), type, subject: { id: `visitor:${i}`, ...(tenant === 'sealed' && type === 'collected' ? { identifiers: { ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` } } : {}) },
  categories: ['user.device.ip_address'], purpose: 'session', system: 'core', occurredAt: '2026-03-01T10:00:00Z', ...(type === 'erased' ? { details: { reason: 'retention' } } : { details: { source: 'observed' } }),
});
async function send(tenant, type, batch = 500, inFlight = 4) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < N) {
      const from = next; next += batch;
      const events = Array.from({ length: Math.min(batch, N - from) }, (_, k) => event(tenant, from + k, type));
      const r = await call('POST', `/v1/tenants/${tenant}/events`, tokens[`${tenant}-emitter`], { events });
      if (r.status !== 200) throw new Error(`${r.status} ${r.text.slice(0, 200)}`);
    }
  }));
  return N / ((performance.now() - t0) / 1000);
}

// 1. The cost of sealing: each subject's first event, with an IP to seal (a new key, an HMAC) or without.
results.ingest_without_identifiers_per_s = Math.round(await send('plain', 'collected'));
results.ingest_with_identifiers_per_s = Math.round(await send('sealed', 'collected'));
results.encryption_cost = round(1 - results.ingest_with_identifiers_per_s / results.ingest_without_identifiers_per_s);
console.log(`ingest, new subjects: without identifiers ${results.ingest_without_identifiers_per_s}/s, with an IP each ${results.ingest_with_identifiers_per_s}/s`);

// 2. Report latency, then every subject erased (each erasure destroys that subject's key), then the report again.
const sample = Array.from({ length: 200 }, (_, k) => Math.floor((k * N) / 200) + 1);
const reports = async () => { const lat = []; for (const i of sample) { const r = await call('GET', `/v1/tenants/sealed/subjects/visitor:${i}/report`, tokens['sealed-dpo']); if (r.status !== 200) throw new Error(`report ${r.status}`); lat.push(r.ms); } return { p50_ms: round(pct(lat, 50)), p99_ms: round(pct(lat, 99)) }; };
results.report_before = await reports();
const t0 = performance.now();
await send('sealed', 'erased', 100, 4);
const secs = (performance.now() - t0) / 1000;
const cert = await call('GET', `/v1/tenants/sealed/subjects/visitor:${N - 1}/erasure`, tokens['sealed-dpo']);
if (cert.json?.destroyed?.length !== 1) throw new Error(`the last subject's key was not destroyed: ${cert.text.slice(0, 200)}`);
results.forget = { subjects: N, seconds: round(secs), keys_destroyed_per_s: Math.round(N / secs) };
console.log(`forgot ${N} subjects (one key each) in ${round(secs)} s = ${results.forget.keys_destroyed_per_s} keys destroyed/s`);
results.report_after = await reports();
console.log(`report of a subject: before p50 ${results.report_before.p50_ms} p99 ${results.report_before.p99_ms} ms; after p50 ${results.report_after.p50_ms} p99 ${results.report_after.p99_ms} ms`);
// Where the memory is: the main thread's heap (from /metrics) against the whole process.
const metrics = (await call('GET', '/metrics', '')).text;
const metric = (name) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(metrics)?.[1] ?? NaN);
results.main_heap_used_mb = Math.round(metric('pdl_nodejs_heap_size_used_bytes') / 1048576);
results.main_heap_total_mb = Math.round(metric('pdl_nodejs_heap_size_total_bytes') / 1048576);
results.rss_at_end_mb = Math.round(metric('pdl_process_resident_memory_bytes') / 1048576);
results.worker_heap_used_mb = Math.round(metric('pdl_storage_worker_heap_used_bytes') / 1048576);
console.log(`main heap used ${results.main_heap_used_mb} MB of ${results.main_heap_total_mb} MB; storage worker heap ${results.worker_heap_used_mb} MB; process RSS ${results.rss_at_end_mb} MB`);
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
clearInterval(rss);
results.server_peak_rss_mb = Math.round(peak);

const md = [`# pdl erasure benchmark, ${results.date}`, '', `${N} subjects, one IP each, over HTTP (batches of 500, 4 in flight; erasures in batches of 100); Node ${results.node}.`, '',
  '| measure | value |', '|---|---|',
  `| ingest, new subjects without an identifier | ${results.ingest_without_identifiers_per_s} events/s |`,
  `| ingest, new subjects with an IP to seal | ${results.ingest_with_identifiers_per_s} events/s |`,
  `| cost of sealing | ${Math.round(results.encryption_cost * 100)}% |`,
  `| forgetting (erasure recorded, fact logged, key and blind-index entry destroyed) | ${results.forget.keys_destroyed_per_s} keys/s (${N} in ${results.forget.seconds} s) |`,
  `| report p50 / p99 before mass erasure | ${results.report_before.p50_ms} / ${results.report_before.p99_ms} ms |`,
  `| report p50 / p99 after | ${results.report_after.p50_ms} / ${results.report_after.p99_ms} ms |`,
  `| server peak RSS | ${results.server_peak_rss_mb} MB (at the end: ${results.rss_at_end_mb} MB, of which heaps: main thread ${results.main_heap_used_mb} MB, storage worker ${results.worker_heap_used_mb} MB) |`, ''].join('\n');
const out = join(ROOT, 'bench', 'results');
mkdirSync(out, { recursive: true });
const stamp = results.date.replace(/[:.]/g, '-');
writeFileSync(join(out, `erasure-${stamp}.json`), JSON.stringify(results, null, 2));
writeFileSync(join(out, `erasure-${stamp}.md`), md);
console.log(md);
