// pdl on PostgreSQL: one run, same events. `node bench/postgres.js` (after `npm run build`), against the
// PostgreSQL of BENCH_POSTGRES_URL (default the machine's: postgres://postgres@127.0.0.1:5432/test); each
// contender gets a database of its own, dropped afterwards. Results: printed, and written to
// bench/results/postgres-<time>.{json,md}.
//  (a) the limit: raw batched inserts of the same rows (the canonical entries, 100 per transaction, with the
//      stream's revision row), 1 and 4 connections;
//  (b) pdl over HTTP, 4 clients x 100 events, one process (target b/a >= 0.35);
//  (c) @event-driven-io/emmett-postgresql, appends of 100 events, 4 in flight;
//  (d) two pdl processes on the same database and tenant, 4 clients each (target d/b >= 1.5);
//  (e) pdl over HTTP, 64 clients sending one event each, one process (no target on PostgreSQL; the
//      embedded store's is e/a >= 0.15): what group commit makes of many small requests.
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import pg from 'pg';
import { canonicalBytes } from '../dist/ledger/domain/canonical.js';
import { ev, machineSpeed, machineText, overHttp, POSTGRES_BASE, ROOT, SECONDS, server, timed, withBusyCores, withPostgresDatabase } from './common.js';

// (a) raw inserts: what PostgreSQL itself takes, the same rows, 100 per transaction (synchronous_commit on).
function raw(connections) {
  return withPostgresDatabase(async (url) => {
    const pool = new pg.Pool({ connectionString: url, max: connections });
    pool.on('error', () => undefined);
    await pool.query(`create table events (global_position bigserial primary key, stream text not null, revision integer not null, event_id text not null, type text not null, data bytea not null,
      hash bytea not null, unique (stream, revision), unique (stream, event_id)); create table streams (stream text primary key, revision integer not null)`);
    let i = 0;
    const rate = await timed(async (end) => { let done = 0;
      await Promise.all(Array.from({ length: connections }, async (_, c) => { let revision = -1; const stream = `ledger-raw-${c}`;
        while (performance.now() < end) {
          const rows = Array.from({ length: 100 }, () => canonicalBytes(ev(i++)));
          const client = await pool.connect();
          try {
            await client.query('begin');
            await client.query(`insert into events (stream, revision, event_id, type, data, hash) select $1, $2::int + n, id, 'collected', d, h from unnest($3::text[], $4::bytea[], $5::bytea[]) with ordinality as x(id, d, h, n)`,
              [stream, revision, rows.map(() => randomUUID()), rows, rows.map((b) => createHash('sha256').update(Buffer.from([0])).update(b).digest())]);
            revision += 100;
            await client.query('insert into streams (stream, revision) values ($1, $2) on conflict (stream) do update set revision = excluded.revision', [stream, revision]);
            await client.query('commit');
          } finally { client.release(); }
          done += 100;
        } }));
      return done; });
    await pool.end();
    return rate;
  });
}

// (c) emmett-postgresql, from its own package in bench/
async function emmett(inFlight) {
  const req = createRequire(join(ROOT, 'bench', 'package.json'));
  let mod;
  try { mod = await import(req.resolve('@event-driven-io/emmett-postgresql')); } catch (e) { return { skipped: `emmett-postgresql not installed in bench/ (cd bench && npm install --legacy-peer-deps): ${e.message.split('\n')[0]}` }; }
  const { default: peerPg } = await import(req.resolve('pg'));
  return withPostgresDatabase(async (url) => {
    // On a pool of ours, ended before the database is dropped.
    const pool = new peerPg.Pool({ connectionString: url, max: 8 });
    pool.on('error', () => undefined);
    const store = mod.getPostgreSQLEventStore(url, { connectionOptions: { pooled: true, pool } });
    let errors = 0, firstError = null, i = 0;
    await store.appendToStream('warm-up', [{ type: 'collected', data: ev(i++) }]);
    const rate = await timed(async (end) => { let done = 0;
      await Promise.all(Array.from({ length: inFlight }, async () => { while (performance.now() < end) {
        const events = Array.from({ length: 100 }, () => ({ type: 'collected', data: ev(i++) }));
        try { await store.appendToStream(`subject-${i % 5000}`, events); done += 100; } catch (e) { errors++; firstError ??= e.code ?? e.message; }
      } }));
      return done; });
    await store.close();
    await pool.end();
    return { rate, errors, firstError };
  });
}

// (b), (d), (e): pdl processes on one database, each with `clientsEach` clients sending `size` events a request
async function pdl(processes, clientsEach, size = 100) {
  return withPostgresDatabase(async (url) => {
    const env = { PDL_STORE: 'postgres', PDL_POSTGRES_URL: url };
    const first = await server(env);
    // The others join the same database and tenant (declared by the first) with the first's token.
    const others = [];
    for (let k = 1; k < processes; k++) others.push(await server(env, { join: first }));
    const all = [first, ...others];
    await Promise.all(all.map((s) => overHttp(s, clientsEach, size, 1)));
    const { value: runs, cores } = await withBusyCores(() => Promise.all(all.map((s) => overHttp(s, clientsEach, size))));
    const peakRss = Math.max(...all.map((s) => s.peakRss()));
    for (const s of all) s.proc.kill('SIGTERM');
    return { rate: runs.reduce((n, r) => n + r.rate, 0), errors: runs.reduce((n, r) => n + r.errors, 0), peakRss, cores };
  });
}

const results = { date: new Date().toISOString(), seconds: SECONDS, node: process.version, machine: machineSpeed() };
try {
  const c = new pg.Client({ connectionString: POSTGRES_BASE }); await c.connect(); results.postgres = (await c.query('show server_version')).rows[0].server_version; await c.end();
} catch (e) {
  console.log(`PostgreSQL is not reachable at ${POSTGRES_BASE} (${e.message}): nothing measured`);
  process.exit(0);
}
console.log(`pdl on PostgreSQL ${results.postgres}, ${SECONDS} s per contender; machine now: ${machineText(results.machine)}`);
// Cores busy (bench/common.js `withBusyCores`): for (a) and (c) over the whole call, a database created and dropped included.
const cores = {};
({ value: results.a_raw_1, cores: cores.a_raw_1 } = await withBusyCores(() => raw(1))); console.log(`(a) raw inserts, 100/tx, 1 connection:   ${Math.round(results.a_raw_1)} ev/s; ${cores.a_raw_1} cores busy`);
({ value: results.a_raw_4, cores: cores.a_raw_4 } = await withBusyCores(() => raw(4))); console.log(`(a) raw inserts, 100/tx, 4 connections:  ${Math.round(results.a_raw_4)} ev/s; ${cores.a_raw_4} cores busy`);
const b = await pdl(1, 4); results.b_pdl_http_4x100 = b.rate; results.b_errors = b.errors; results.b_peak_rss_mb = b.peakRss; cores.b = b.cores;
console.log(`(b) pdl HTTP, one process, 4 x 100:       ${Math.round(b.rate)} ev/s (${b.errors} errors), peak RSS ${Math.round(b.peakRss)} MB; ${b.cores} cores busy`);
const { value: e, cores: eCores } = await withBusyCores(() => emmett(4)); cores.c_emmett = eCores;
if (e.skipped) console.log(`(c) emmett-postgresql: skipped (${e.skipped})`);
else { results.c_emmett_4x100 = e.rate; results.c_emmett_errors = e.errors; console.log(`(c) emmett-postgresql, 100/append, 4 in flight: ${Math.round(e.rate)} ev/s (${e.errors} failed${e.firstError ? `: ${e.firstError}` : ''}); ${eCores} cores busy`); }
const d = await pdl(2, 4); results.d_pdl_two_processes = d.rate; results.d_errors = d.errors; cores.d = d.cores;
console.log(`(d) pdl HTTP, two processes, 4 x 100 each: ${Math.round(d.rate)} ev/s aggregate (${d.errors} errors); ${d.cores} cores busy`);
const e1 = await pdl(1, 64, 1); results.e_pdl_http_64x1 = e1.rate; results.e_errors = e1.errors; cores.e = e1.cores;
console.log(`(e) pdl HTTP, one process, 64 x 1:        ${Math.round(e1.rate)} ev/s (${e1.errors} errors); ${e1.cores} cores busy`);
results.cores_busy = cores;
const ratio = (x, y) => (x && y ? x / y : null);
results.ratios = { 'b/a': ratio(b.rate, results.a_raw_4), 'b/c': ratio(b.rate, results.c_emmett_4x100), 'd/b': ratio(d.rate, b.rate), 'e/a': ratio(e1.rate, results.a_raw_4) };
const fmt = (x) => (x === null ? 'n/a' : x.toFixed(2));
const targets = { 'b/a': 0.35, 'd/b': 1.5 };
console.log(`ratios: ${Object.entries(results.ratios).map(([k, v]) => `${k}=${fmt(v)}${targets[k] ? (v !== null && v >= targets[k] ? ' (target met)' : ` (target ${targets[k]}: missed)`) : ''}`).join(', ')}`);
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
const stamp = results.date.replace(/[:.]/g, '-');
writeFileSync(join(ROOT, 'bench', 'results', `postgres-${stamp}.json`), JSON.stringify(results, null, 2) + '\n');
writeFileSync(join(ROOT, 'bench', 'results', `postgres-${stamp}.md`), `| contender (PostgreSQL ${results.postgres}) | events/s | cores busy |\n|---|---|---|\n| (a) raw inserts, 100/tx, 1 connection | ${Math.round(results.a_raw_1)} | ${cores.a_raw_1} |\n| (a) raw inserts, 100/tx, 4 connections | ${Math.round(results.a_raw_4)} | ${cores.a_raw_4} |\n| (b) pdl HTTP, one process, 4 x 100 | ${Math.round(b.rate)} | ${cores.b} |\n| (c) emmett-postgresql, 100/append, 4 in flight | ${results.c_emmett_4x100 ? Math.round(results.c_emmett_4x100) : 'n/a'} | ${cores.c_emmett} |\n| (d) pdl HTTP, two processes, 4 x 100 each | ${Math.round(d.rate)} | ${cores.d} |\n| (e) pdl HTTP, one process, 64 x 1 | ${Math.round(e1.rate)} | ${cores.e} |\n\nratios: ${Object.entries(results.ratios).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}; peak RSS (one process) ${Math.round(b.peakRss)} MB\n\nmachine at the start: ${machineText(results.machine)}\n`);
process.exit(0);
