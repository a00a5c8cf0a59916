import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import { IdentifierVault } from '../../src/keys/application/identifier-vault.js';
import { LedgerWriter } from '../../src/ledger/application/ledger-writer.js';
import { tenantStream } from '../../src/ledger/domain/streams.js';
import { openEmbeddedStorage } from '../../src/storage/embedded-storage.js';
import { openPostgresStorage } from '../../src/storage/postgres-storage.js';
import type { LedgerStorage } from '../../src/storage/storage.js';
import { tempDir } from '../support/ledger-process.js';
import { PG_URL } from '../support/postgres.js';
import { anAction, playActions, SUBJECTS, uuid, type Action } from '../support/random-ledger.js';

/**
 * The read-model contract: whatever the backend, the same log gives the same answers. Random ledgers are
 * played into the embedded store and into PostgreSQL (with the same ids and the same clock, so the logs
 * are byte for byte the same), then every read-model port is asked the same questions.
 */
const master = { key: randomBytes(32), id: 'test' };
const TIMES = ['2026-01-15T00:00:00.000Z', '2026-06-01T00:00:00.000Z', '2027-06-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z'];
const sorted = <T>(xs: T[]) => xs.map((x) => JSON.stringify(x)).sort();

async function answers(s: LedgerStorage) {
  await s.flushDeferred();
  const stream = tenantStream('acme');
  const size = await s.merkle.treeSize(stream);
  const everything = await s.auditTrail.page('acme', {}, -1, 10_000);
  const authority = await s.requests.authorityRequests('acme', -1, 1000);
  const out: Record<string, unknown> = {
    tenant: await s.tenants.tenant('acme'), tenants: await s.tenants.tenantIds(),
    declarations: await Promise.all((['purposes', 'systems', 'recipients'] as const).map((k) => s.declarations.list('acme', k))),
    log: (await s.eventStore.readStream(stream, 0, 10_000)).map((e) => e.data.toString('utf8')),
    tree: size ? { size, root: (await s.merkle.root(stream, size)).toString('hex'), inclusion: (await s.merkle.inclusion(stream, 0, size)).map((b) => b.toString('hex')), consistency: (await s.merkle.consistency(stream, 1, size)).map((b) => b.toString('hex')) } : null,
    trail: everything.map((r) => [r.position, r.hash]),
    trailPage: (await s.auditTrail.page('acme', {}, 3, 5)).map((r) => r.position),
    disclosures: (await s.auditTrail.page('acme', { disclosures: true }, -1, 1000)).map((r) => r.position),
    byCategory: (await s.auditTrail.page('acme', { category: 'user.contact.email' }, -1, 1000)).map((r) => r.position),
    byPurposeAndType: (await s.auditTrail.page('acme', { purpose: 'marketing', type: 'used' }, -1, 1000)).map((r) => r.position),
    at: (await s.auditTrail.at('acme', everything.slice(0, 3).map((r) => r.position))).map((r) => r.position),
    findings: (await s.findings.page('acme', {}, 0, 10_000)).map(({ id: _id, ...f }) => f),
    findingsOfEvents: [...(await s.findings.ofEvents('acme', everything.map((r) => r.entry.eventId)))].sort(([a], [b]) => (a < b ? -1 : 1)),
    subjectRequests: await Promise.all(TIMES.map((at) => s.requests.subjectRequests('acme', at, undefined, -1, 1000))),
    overdue: await s.requests.subjectRequests('acme', TIMES[2]!, 'overdue', -1, 1000),
    authority,
    disclosuresUnder: await Promise.all(authority.map((r) => s.requests.disclosuresUnder('acme', r.id))),
    erasuresAfter: await s.requests.erasuresAfter('acme', -1),
    accessLog: await s.answers.accessLog('acme', {}, -1, 1000),
    observed: sorted(await s.answers.observed('acme', Number.MAX_SAFE_INTEGER)),
    subjectCounts: await s.answers.subjectCounts('acme', Number.MAX_SAFE_INTEGER),
    pastCounts: await s.answers.subjectCounts('acme', Math.floor(size / 2)),
    positionsAt: await Promise.all(TIMES.map((at) => s.answers.positionAt('acme', at))),
    retention: await Promise.all(TIMES.map(async (at) => sorted((await s.retention.page('acme', at, {}, 0, 10_000, 7)).map(({ id: _id, ...h }) => h)))),
  };
  for (const subject of SUBJECTS) {
    out[subject] = {
      requests: await s.requests.subjectRequestsOf('acme', subject, TIMES[1]!),
      authority: await s.requests.authorityRequestsOf('acme', subject),
      forgotten: await s.requests.forgotten('acme', subject),
      trail: (await s.auditTrail.page('acme', { subject }, -1, 1000)).map((r) => r.position),
      trailThrough: (await s.auditTrail.page('acme', { subject, through: Math.floor(size / 2) }, -1, 1000)).map((r) => r.position),
      erasure: await Promise.all(TIMES.map((at) => s.retention.erasureStatus('acme', subject, at))),
      accessLog: await s.answers.accessLog('acme', { subject }, -1, 1000),
      retention: sorted((await s.retention.page('acme', TIMES[1]!, { subject }, 0, 1000, 7)).map(({ id: _id, ...h }) => h)),
      decision: await s.decisions.judge('acme', { type: 'used', subject, categories: ['user.contact.email'], purpose: 'marketing', system: 'core', occurredAt: '2026-09-01T00:00:00Z' }),
    };
  }
  return out;
}

async function play(s: LedgerStorage, actions: readonly Action[], run: number) {
  let n = run * 1_000_000;
  let t = Date.UTC(2026, 0, 1);
  // The same ids and the same clock on both backends: the logs are the same bytes.
  const writer = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date((t += 3_600_000)) });
  await playActions(writer, actions, () => uuid(n++), { identifiers: false });
  await writer.drain();
}

describe('the read models, on every backend', () => {
  it('give the same answers on SQLite and on PostgreSQL for any sequence of entries', async () => {
    let run = 0;
    await fc.assert(fc.asyncProperty(fc.array(anAction, { minLength: 1, maxLength: 20 }), async (actions) => {
      run++;
      const sqlite = openEmbeddedStorage(tempDir(), master, { writes: 'in-thread' });
      const suffix = randomUUID().replace(/-/g, '').slice(0, 10);
      const postgres = await openPostgresStorage(PG_URL, master, { schema: `pdl_rm_${suffix}`, keysSchema: `pdl_rmk_${suffix}`, connections: 4 });
      try {
        await play(sqlite, actions, run);
        await play(postgres, actions, run);
        expect(await answers(postgres)).toEqual(await answers(sqlite));
      } finally {
        await sqlite.close();
        await postgres.close();
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`drop schema if exists pdl_rm_${suffix} cascade; drop schema if exists pdl_rmk_${suffix} cascade`);
        await c.end();
      }
    }), { numRuns: 12 });
  }, 300_000);
});
