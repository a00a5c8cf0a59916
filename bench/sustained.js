// The ledger's memory under a sustained load: one server started as `npm start` starts it, loaded over
// HTTP for BENCH_SECONDS (default here 100), its resident memory printed every second. A diagnostic, not
// part of `npm run bench`: memory that climbs for as long as the load lasts is work left behind (the
// deferred indexes' groups fell behind this way until 2026-12-01), not a peak.
//   node bench/sustained.js [clients x size ...]   (default: 4x100)
import { readFileSync } from 'node:fs';
import { overHttp, server } from './common.js';

const seconds = Number(process.env.BENCH_SECONDS || 100);
const loads = (process.argv.length > 2 ? process.argv.slice(2) : ['4x100']).map((l) => {
  const m = /^(\d+)x(\d+)$/.exec(l);
  if (!m) { console.error(`a load is <clients>x<events per request> (4x100, 64x1...), not ${l}`); process.exit(2); }
  return { clients: Number(m[1]), size: Number(m[2]) };
});
const srv = await server();
const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8'))[1]) / 1024;
for (const { clients, size } of loads) {
  const each = [];
  const timer = setInterval(() => each.push(Math.round(rssMb())), 1000);
  const r = await overHttp(srv, clients, size, seconds);
  clearInterval(timer);
  const third = Math.max(1, Math.floor(each.length / 3));
  const avg = (xs) => Math.round(xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1));
  console.log(`${clients} x ${size} for ${seconds} s: ${Math.round(r.rate)} events/s (${r.errors} errors); RSS MB, first third ${avg(each.slice(0, third))}, last third ${avg(each.slice(-third))}, peak ${Math.round(srv.peakRss())}`);
  console.log(`  each second: ${each.join(' ')}`);
}
srv.proc.kill('SIGTERM');
