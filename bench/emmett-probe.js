// emmett-sqlite with several appends in flight, in a process of its own: its sqlite3 driver may emit an
// unhandled 'error' and end the process, which must not end the benchmark. Prints one JSON line.
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const [batch, inFlight, seconds] = process.argv.slice(2).map(Number);
const req = createRequire(join(ROOT, 'bench', 'package.json'));
const mod = await import(req.resolve('@event-driven-io/emmett-sqlite'));
const store = mod.getSQLiteEventStore({ fileName: join(mkdtempSync(join(tmpdir(), 'emmett-')), 'emmett.db') });
const ev = (i) => ({ eventId: randomUUID(), type: 'collected', subject: { id: `perf-${i % 5000}` }, categories: ['user.device.ip_address'], purpose: 'visitor-session', system: 'core', occurredAt: '2026-03-01T10:00:00Z', details: { source: 'observed' } });
let n = 0, done = 0, errors = 0, firstError = null;
const t0 = performance.now(); const end = t0 + seconds * 1000;
await Promise.all(Array.from({ length: inFlight }, async () => { while (performance.now() < end) {
  const events = Array.from({ length: batch }, () => ({ type: 'collected', data: ev(n++) }));
  try { await store.appendToStream(`subject-${n % 5000}`, events); done += batch; } catch (e) { errors++; firstError ??= e.code ?? e.message; }
} }));
console.log(JSON.stringify({ rate: done / ((performance.now() - t0) / 1000), errors, firstError }));
process.exit(0);
