// pdl compliance benchmark: findings query latency over 1,000,000 events with ~50,000 findings, and the
// decision point's latency (judging alone, and judging + recording the decision durably).
// `npm run bench` (after `npm run build`). Results: printed, and written to bench/results/compliance-<time>.{json,md}.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openEmbeddedStorage } from '../dist/storage/embedded-storage.js';
import { IdentifierVault } from '../dist/keys/application/identifier-vault.js';
import { LedgerWriter } from '../dist/ledger/application/ledger-writer.js';
import { decodeAppendBody } from '../dist/ledger/domain/processing-event.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_EVENTS || 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'pdl-compliance-'));
const results = { date: new Date().toISOString(), events: N, node: process.version };
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

const s = openEmbeddedStorage(dir, { key: randomBytes(32), id: 'bench' });
const w = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
const actor = { type: 'admin', id: 'bench' };
const purpose = (id, legalBasis, period) => ({ type: 'purpose-declared', eventId: randomUUID(), actor, declaration: { id, version: 1, body: { title: id, legalBasis, categories: ['user.device.ip_address', 'user.contact.email'], retention: { period, from: 'collection' } } } });
await w.append('acme', async () => ({ _tag: 'Right', right: { drafts: [
  { type: 'tenant-declared', eventId: randomUUID(), actor, settings: { name: 'Bench', residency: ['EEA'] } },
  purpose('session', 'legitimate-interests', 'P1Y'), purpose('marketing', 'consent', 'P3Y'),
  { type: 'system-declared', eventId: randomUUID(), actor, declaration: { id: 'core', version: 1, body: { name: 'Core', country: 'NL' } } },
], answer: () => null } }));

// 1 in 20 events names a system nobody declared: about 50,000 findings over 1,000,000 events.
const SUBJECTS = 50_000;
const ev = (i) => ({
  eventId: randomUUID(), type: i % 3 === 0 ? 'collected' : 'used', subject: { id: `visitor:${i % SUBJECTS}` },
  categories: ['user.device.ip_address'], purpose: 'session', system: i % 20 === 0 ? 'legacy-crm' : 'core',
  occurredAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(), details: i % 3 === 0 ? { source: 'observed' } : {},
});
let t0 = performance.now();
let n = 0;
await Promise.all(Array.from({ length: 4 }, async () => {
  while (n < N) {
    const batch = Array.from({ length: Math.min(1000, N - n) }, () => ev(n++));
    const r = await w.record('acme', decodeAppendBody({ events: batch }).right);
    if (r._tag !== 'Right') throw new Error('append refused');
  }
}));
results.load_events_per_s = N / ((performance.now() - t0) / 1000);
console.log(`recorded ${N} events with the rules on at ${Math.round(results.load_events_per_s)} ev/s`);
await new Promise((r) => setTimeout(r, 1500)); // deferred indexes written

// 2. The findings query, as GET …/findings runs it: pages of 100 with and without filters, from random cursors.
const total = (await s.findings.page('acme', { code: 'system-unknown' }, 0, 1_000_000)).length;
results.findings = total;
const lat = [];
for (let k = 0; k < 2000; k++) {
  const filter = [{}, { code: 'system-unknown' }, { severity: 'medium' }, { subject: `visitor:${(k * 7919) % SUBJECTS}` }, { code: 'system-unknown', from: '2026-03-01T00:00:00.000Z' }][k % 5];
  const after = Math.floor(Math.random() * total);
  const st = performance.now();
  await s.findings.page('acme', filter, after, 101);
  lat.push(performance.now() - st);
}
results.findings_page_ms = { p50: pct(lat, 50), p99: pct(lat, 99), max: Math.max(...lat) };
console.log(`findings page of 100 (${total} findings): p50 ${results.findings_page_ms.p50.toFixed(2)} ms, p99 ${results.findings_page_ms.p99.toFixed(2)} ms (target <= 20 ms)`);

// 3. The decision point: judging alone (what it costs to answer), then judging and recording the decision.
const judged = [];
for (let k = 0; k < 20_000; k++) {
  const fact = { type: k % 2 ? 'disclosed' : 'used', subject: `visitor:${k % SUBJECTS}`, categories: ['user.contact.email'], purpose: k % 2 ? 'marketing' : 'session', system: 'core', occurredAt: '2026-12-01T00:00:00Z', details: k % 2 ? { recipient: 'mailer' } : {} };
  const st = performance.now();
  await s.decisions.judge('acme', fact);
  judged.push(performance.now() - st);
}
results.decision_judge_ms = { p50: pct(judged, 50), p99: pct(judged, 99) };
const { DecideHandler } = await import('../dist/decisions/application/decide.js');
const decide = new DecideHandler(w, s.decisions, { uuid: () => randomUUID() }, { now: () => new Date() }, s.flushDeferred);
const recorded = [];
for (let k = 0; k < 500; k++) {
  const st = performance.now();
  const r = await decide.execute({ tenant: 'acme', by: { kind: 'root' }, body: { subject: { id: `visitor:${k}` }, type: 'used', purpose: 'session', categories: ['user.device.ip_address'], system: 'core' } });
  if (r._tag !== 'Right') throw new Error('decision refused');
  recorded.push(performance.now() - st);
}
results.decision_recorded_ms = { p50: pct(recorded, 50), p99: pct(recorded, 99) };
console.log(`decision, judged: p50 ${results.decision_judge_ms.p50.toFixed(3)} ms, p99 ${results.decision_judge_ms.p99.toFixed(3)} ms (target < 2 ms); judged and recorded durably: p50 ${results.decision_recorded_ms.p50.toFixed(2)} ms, p99 ${results.decision_recorded_ms.p99.toFixed(2)} ms`);
await w.drain(); await s.close();
rmSync(dir, { recursive: true, force: true });

mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
const stamp = results.date.replace(/[:.]/g, '-');
writeFileSync(join(ROOT, 'bench', 'results', `compliance-${stamp}.json`), JSON.stringify(results, null, 2) + '\n');
writeFileSync(join(ROOT, 'bench', 'results', `compliance-${stamp}.md`), `| measure (${N} events, ${total} findings) | value | target |\n|---|---|---|\n`
  + `| recording with the rules on (4 x 1000 in flight) | ${Math.round(results.load_events_per_s)} ev/s | |\n`
  + `| findings page of 100, p50 / p99 | ${results.findings_page_ms.p50.toFixed(2)} / ${results.findings_page_ms.p99.toFixed(2)} ms | p99 <= 20 ms |\n`
  + `| decision judged, p50 / p99 | ${results.decision_judge_ms.p50.toFixed(3)} / ${results.decision_judge_ms.p99.toFixed(3)} ms | p99 < 2 ms |\n`
  + `| decision judged and recorded durably, p50 / p99 | ${results.decision_recorded_ms.p50.toFixed(2)} / ${results.decision_recorded_ms.p99.toFixed(2)} ms | |\n`);
process.exit(0);
