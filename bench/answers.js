// pdl answers benchmark, on a ledger of about 1,000,000 events told by `pdl demo`: the Art. 15 report of a
// subject with 1,000 events, the RoPA, audit trail pages with filters, the disclosure register, the full
// rebuild of the read models, and the server's peak RSS. Everything over HTTP against `pdl serve`.
// `npm run bench` (after `npm run build`), or alone: `node bench/answers.js`.
//   BENCH_VISITORS (default 180000, about 1,000,000 events)  BENCH_ANSWERS_DIR (reuse a ledger told before)
// Results: printed, and written to bench/results/answers-<time>.{json,md}.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonRequest } from '../dist/common/http/json-request.js';
// Run as a user runs them: `pdl …` (bin/pdl.js) and `npm start` give Node these flags.
import { freePort, machineSpeed, machineText, START_FLAGS } from './common.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'pdl.js');
const VISITORS = Number(process.env.BENCH_VISITORS || 180_000);
const dir = process.env.BENCH_ANSWERS_DIR || mkdtempSync(join(tmpdir(), 'pdl-answers-'));
// On the store the environment names (PDL_STORE=postgres with PDL_POSTGRES_URL: the ledger on PostgreSQL).
const STORE = process.env.PDL_STORE || 'sqlite';
const results = { date: new Date().toISOString(), node: process.version, visitors: VISITORS, store: STORE, machine: machineSpeed() };
console.log(`machine now: ${machineText(results.machine)}`);
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const round = (x) => Math.round(x * 10) / 10;

function run(args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...START_FLAGS, BIN, ...args], { env: { ...process.env, NODE_OPTIONS: '', PDL_DATA_DIR: dir, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const peak = watchRss(child.pid);
    child.on('exit', (code) => (code === 0 ? resolve({ out, err, peakMb: peak() }) : reject(new Error(`pdl ${args[0]} exited ${code}: ${err.slice(-500)}`))));
  });
}

/** Peak resident memory of a process, from /proc (VmHWM), read until it exits. */
function watchRss(pid) {
  let peak = 0;
  const read = () => { try { const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8')); if (m) peak = Math.max(peak, Number(m[1]) / 1024); } catch { /* gone */ } };
  const timer = setInterval(read, 200);
  return () => { clearInterval(timer); return Math.round(peak); };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const get = (port, token, path) => jsonRequest(`http://127.0.0.1:${port}`, 'GET', path, { token, agent });

// 1. The ledger, told by `pdl demo` (or reused).
const tokensFile = join(dir, 'bench-tokens.json');
if (!existsSync(tokensFile)) {
  console.log(`telling the demo story with ${VISITORS} visitors into ${dir} ...`);
  const t0 = performance.now();
  const demo = await run(['demo', '--visitors', String(VISITORS)]);
  results.demo_seconds = round((performance.now() - t0) / 1000);
  const told = /Told the chat-box story: (\d+) visitors, (\d+) events and (\d+) requests/.exec(demo.out);
  const tokens = Object.fromEntries(['dpo', 'legal', 'auditor'].map((r) => [r, new RegExp(`${r}=(\\S+)`).exec(demo.out)[1]]));
  writeFileSync(tokensFile, JSON.stringify({ tokens, events: Number(told[2]), requests: Number(told[3]) }), { mode: 0o600 });
  console.log(demo.out.split('\n').slice(0, 2).join('\n'));
}
const { tokens, events } = JSON.parse(readFileSync(tokensFile, 'utf8'));
results.events = events;

// PostgreSQL plans from statistics that autovacuum keeps (its default), and autovacuum keeps the tables'
// visibility maps. A server that runs without it (as this machine's test server does) never analyses or
// vacuums the log's tables: both done here, as autovacuum would have.
if (STORE === 'postgres') {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: process.env.PDL_POSTGRES_URL });
  await client.connect();
  if ((await client.query('show autovacuum')).rows[0].autovacuum !== 'on') {
    await client.query('vacuum analyze');
    results.vacuumed_without_autovacuum = true;
    console.log('autovacuum is off on this server: tables vacuumed and analysed before measuring, as autovacuum would have');
  }
  await client.end();
}

// 2. The answers, one request at a time, against the started server.
const port = await freePort();
const server = spawn(process.execPath, [...START_FLAGS, BIN, 'serve'], { env: { ...process.env, NODE_OPTIONS: '', PDL_DATA_DIR: dir, PDL_HTTP_PORT: String(port), PDL_GRPC_PORT: '0', PDL_HOST: '127.0.0.1', PDL_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] });
const serverPeak = watchRss(server.pid);
for (let i = 0; ; i++) { try { if ((await get(port, '', '/health')).status === 200) break; } catch { /* not yet */ } if (i > 600) throw new Error('server did not start'); await new Promise((r) => setTimeout(r, 100)); }
const P = '/v1/tenants/chatbox';
// Each answer is measured warm: its requests run for WARM_MS first (at least 5), so that V8 has compiled
// the code they run — a server answers for days; its first second after start is measured apart (below).
const WARM_MS = Number(process.env.BENCH_WARM_MS ?? 2000);
const measure = async (name, token, paths, n, { warm = true } = {}) => {
  const lat = [];
  let bytes = 0;
  if (warm) for (let i = 0, end = performance.now() + WARM_MS; i < 5 || performance.now() < end; i++) await get(port, token, paths(i));
  for (let i = 0; i < n; i++) {
    const r = await get(port, token, paths(i));
    if (r.status !== 200) throw new Error(`${name}: ${r.status} ${r.text.slice(0, 200)}`);
    lat.push(r.ms);
    bytes = Buffer.byteLength(r.text);
  }
  results[name] = { n, p50_ms: round(pct(lat, 50)), p99_ms: round(pct(lat, 99)), max_ms: round(Math.max(...lat)), bytes };
  console.log(`${name.padEnd(34)} p50 ${results[name].p50_ms} ms  p99 ${results[name].p99_ms} ms  (${n} requests, ${bytes} bytes)`);
};
const regular = encodeURIComponent('visitor:regular-0001');
const history = (await get(port, tokens.dpo, `${P}/subjects/${regular}/report`)).json.history.length;
results.report_subject_events = history;
// Random visitors for the subject filter: ids from the trail itself.
const sample = (await get(port, tokens.auditor, `${P}/events?limit=1000&type=collected`)).json.items.map((x) => x.event.subject.id);
// Right after start, before any warm-up: the first 50 reports (the one above aside).
await measure('report_json_1000_events_first_50', tokens.dpo, () => `${P}/subjects/${regular}/report`, 50, { warm: false });
await measure('report_json_1000_events', tokens.dpo, () => `${P}/subjects/${regular}/report`, 300);
await measure('report_html_1000_events', tokens.dpo, () => `${P}/subjects/${regular}/report?format=html`, 100);
await measure('report_small_subject', tokens.dpo, (i) => `${P}/subjects/${encodeURIComponent(sample[i % sample.length])}/report`, 300);
await measure('ropa', tokens.auditor, () => `${P}/ropa`, 50);
await measure('ropa_csv', tokens.auditor, () => `${P}/ropa?format=csv`, 50);
const filters = ['purpose=marketing', 'type=disclosed', 'category=user.contact.email', 'recipient=email-platform', 'system=plugins', 'purpose=statistics&type=transferred'];
await measure('trail_page_filtered_100', tokens.auditor, (i) => `${P}/events?limit=100&${filters[i % filters.length]}`, 300);
// Filters few events (or none) match: each walked the whole trail before the facet index.
const rare = ['purpose=ai-training', 'system=legacy-crm', 'purpose=no-such-purpose', 'type=consent-withdrawn&purpose=marketing', 'system=plugins&type=erased', 'category=user.contact.email&type=erased'];
await measure('trail_page_rare_filter_100', tokens.auditor, (i) => `${P}/events?limit=100&${rare[i % rare.length]}`, 300);
await measure('trail_page_subject', tokens.auditor, (i) => `${P}/events?subject=${encodeURIComponent(sample[i % sample.length])}`, 300);
await measure('disclosures_authorities', tokens.legal, () => `${P}/disclosures?recipientKind=public-authority`, 100);
await measure('access_log_page', tokens.auditor, () => `${P}/access-log`, 100);
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
results.server_peak_rss_mb = serverPeak();
console.log(`server peak RSS ${results.server_peak_rss_mb} MB`);

// 3. The full rebuild of the read models.
const t1 = performance.now();
const rebuilt = await run(['rebuild']);
const secs = (performance.now() - t1) / 1000;
const entries = Number(/from (\d+) log entries/.exec(rebuilt.out)[1]);
results.rebuild = { entries, seconds: round(secs), entries_per_s: Math.round(entries / secs), peak_rss_mb: rebuilt.peakMb };
console.log(`rebuild: ${entries} entries in ${round(secs)} s = ${results.rebuild.entries_per_s} entries/s, peak RSS ${rebuilt.peakMb} MB`);

const targets = [
  ['report p99, subject with 1,000 events', results.report_json_1000_events.p99_ms, '≤ 25 ms', results.report_json_1000_events.p99_ms <= 25],
  ['RoPA p99', results.ropa.p99_ms, '≤ 200 ms', results.ropa.p99_ms <= 200],
  ['audit trail page with a filter p99', results.trail_page_filtered_100.p99_ms, '≤ 20 ms', results.trail_page_filtered_100.p99_ms <= 20],
  ['full rebuild', `${results.rebuild.entries_per_s} entries/s`, '≥ 50,000/s', results.rebuild.entries_per_s >= 50_000],
];
results.targets = targets.map(([what, got, target, met]) => ({ what, got, target, met }));
const md = [`# pdl answers benchmark (${STORE}), ${results.date}`, '', `${results.events} events told by \`pdl demo --visitors ${VISITORS}\` into the ${STORE} store; Node ${results.node}. Machine at the start: ${machineText(results.machine)}.`, '',
  '| target | measured | goal | met |', '|---|---|---|---|', ...targets.map(([w, g, t, m]) => `| ${w} | ${g} | ${t} | ${m ? 'yes' : 'NO'} |`), '',
  '| answer | p50 ms | p99 ms | bytes |', '|---|---|---|---|',
  ...Object.entries(results).filter(([, v]) => v && typeof v === 'object' && 'p50_ms' in v).map(([k, v]) => `| ${k} | ${v.p50_ms} | ${v.p99_ms} | ${v.bytes} |`), '',
  `Server peak RSS: ${results.server_peak_rss_mb} MB. Rebuild: ${results.rebuild.entries} entries in ${results.rebuild.seconds} s, peak RSS ${results.rebuild.peak_rss_mb} MB.`, ''].join('\n');
const out = join(ROOT, 'bench', 'results');
mkdirSync(out, { recursive: true });
const stamp = results.date.replace(/[:.]/g, '-');
writeFileSync(join(out, `answers-${STORE === 'sqlite' ? '' : `${STORE}-`}${stamp}.json`), JSON.stringify(results, null, 2));
writeFileSync(join(out, `answers-${STORE === 'sqlite' ? '' : `${STORE}-`}${stamp}.md`), md);
console.log(md);
