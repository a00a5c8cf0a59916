// Where the ingest CPU goes: a ledger started as `npm start` starts it, loaded over HTTP, and the CPU each of
// its threads used per recorded event (from /proc, Linux only), beside the load generator's own. A diagnostic,
// not part of `npm run bench`. On a 2-core machine the server's threads and its client share the cores: when
// the machine's busy cores (printed too) are near 2 and no thread is busy all the time, CPU saved on any
// thread shows; when one thread's CPU an event × the rate is near one core, only that thread's does.
//   node bench/threads.js [clients x size ...]   (default: 4x100 64x1)   BENCH_SECONDS (default 6)
//   PDL_STORE=postgres [BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test]: the ledger on a new
//   database of that server (dropped afterwards), and PostgreSQL's own CPU an event beside the ledger's.
// The main thread is the process's own id; the storage worker is usually the busiest other thread (both with
// their busy share of the time); V8's platform threads (garbage collection, optimising compiler) come next,
// a few percent each. Each load also says how many of the machine's cores were busy (every process): at the
// core count, CPU is the bound.
import { readdirSync, readFileSync } from 'node:fs';
import { overHttp, SECONDS, server, withBusyCores, withPostgresDatabase } from './common.js';

const loads = (process.argv.length > 2 ? process.argv.slice(2) : ['4x100', '64x1']).map((l) => {
  const m = /^(\d+)x(\d+)$/.exec(l);
  if (!m) { console.error(`a load is <clients>x<events per request> (4x100, 64x1...), not ${l}`); process.exit(2); }
  return { clients: Number(m[1]), size: Number(m[2]) };
});
const TICK_MS = 1000 / 100; // USER_HZ: /proc counts CPU time in ticks of 10 ms

/** CPU time (ms) a process or thread has used, from its `stat` file (utime + stime); 0 once it has ended. */
function cpuMs(statFile) {
  try {
    const stat = readFileSync(statFile, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** CPU time (ms) of every thread of a process, by thread id. */
const threadCpu = (pid) => new Map(readdirSync(`/proc/${pid}/task`).map((tid) => [Number(tid), cpuMs(`/proc/${pid}/task/${tid}/stat`)]));

/** CPU time (ms) of every process named `name` (PostgreSQL's server processes: one a connection, and its helpers). */
function processesCpu(name) {
  let ms = 0;
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let comm;
    try { comm = readFileSync(`/proc/${p}/comm`, 'utf8').trim(); } catch { continue; /* the process ended */ }
    if (comm === name) ms += cpuMs(`/proc/${p}/stat`);
  }
  return ms;
}

const postgres = process.env.PDL_STORE === 'postgres';

async function measure(env) {
  const srv = await server(env);
  const pid = srv.proc.pid;
  try {
    await overHttp(srv, 4, 100, 2); // warm-up, as bench/run.js does
    for (const { clients, size } of loads) {
      await overHttp(srv, clients, size, 2); // V8 optimises this load's code first
      const before = threadCpu(pid), own = process.cpuUsage(), pgBefore = postgres ? processesCpu('postgres') : 0;
      const t0 = performance.now();
      const { value: { rate, errors }, cores } = await withBusyCores(() => overHttp(srv, clients, size, SECONDS));
      const events = rate * ((performance.now() - t0) / 1000);
      const after = threadCpu(pid), client = process.cpuUsage(own), pgUs = postgres ? ((processesCpu('postgres') - pgBefore) * 1000) / events : null;
      const perEvent = [...after].map(([tid, ms]) => ({ tid, us: ((ms - (before.get(tid) ?? 0)) * 1000) / events })).filter((t) => t.us >= 0.5).sort((a, b) => b.us - a.us);
      const total = perEvent.reduce((n, t) => n + t.us, 0);
      const label = (t) => (t.tid === pid ? 'main' : `thread ${t.tid}`);
      // A thread's busy share: its CPU an event times the rate. A thread well short of 100% while the machine
      // has cores to spare waits for another (a pipeline bubble), rather than bounding the rate itself.
      const busy = (t) => (t.tid === pid || t === perEvent.find((x) => x.tid !== pid) ? ` (busy ${Math.round((t.us * rate) / 1e4)}%)` : '');
      console.log(`${clients} x ${size}: ${Math.round(rate)} events/s (${errors} errors); server ${Math.round(total)} µs of CPU an event: ${perEvent.map((t) => `${label(t)} ${Math.round(t.us)}${busy(t)}`).join(', ')}; load generator ${Math.round((client.user + client.system) / events)} µs${postgres ? `; PostgreSQL ${Math.round(pgUs)} µs` : ''}; ${cores} cores of the machine busy`);
    }
  } finally {
    srv.proc.kill('SIGTERM');
    await new Promise((r) => (srv.proc.exitCode !== null ? r() : srv.proc.once('exit', r)));
  }
}

if (postgres) await withPostgresDatabase((url) => measure({ PDL_POSTGRES_URL: url }));
else await measure({});
