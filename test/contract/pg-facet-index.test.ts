import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { AuditFilter, AuditRow } from '../../src/audit-trail/audit-trail-read-model.port.js';
import { FACET_BLOCK } from '../../src/audit-trail/postgres/pg-audit-trail.js';
import { sortableInstant } from '../../src/common/kernel/time.js';
import { IdentifierVault } from '../../src/keys/application/identifier-vault.js';
import { LedgerWriter } from '../../src/ledger/application/ledger-writer.js';
import { decodeAppendBody } from '../../src/ledger/domain/processing-event.js';
import { openPostgresStorage } from '../../src/storage/postgres-storage.js';
import type { LedgerStorage } from '../../src/storage/storage.js';
import { anEvent, declareTenant } from '../support/builders.js';
import { freshDatabase } from '../support/postgres.js';

/**
 * The trail's facet index on PostgreSQL: whatever made its blocks (commits of every size, a rebuild, the
 * migration that fills it from an existing trail), a filtered page is the whole trail filtered, page
 * after page and from any position. The expected answers are the unfiltered trail filtered here.
 */
const master = { key: randomBytes(32), id: 'test' };

/** A small deterministic generator: the same ledger every run. */
function generator(seed: number) {
  let x = seed;
  return () => ((x = (x * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
}

function events(n: number, random: () => number) {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  return Array.from({ length: n }, () => {
    const type = pick(['collected', 'used', 'used', 'stored', 'disclosed', 'transferred'] as const);
    // A rare system and a rare purpose (about 1 event in 100 each).
    const system = random() < 0.01 ? 'legacy-crm' : pick(['core', 'plugins']);
    const purpose = random() < 0.01 ? 'ai-training' : pick(['chat', 'marketing', 'statistics']);
    const categories = [...new Set([pick(['user.device.ip_address', 'user.contact.email']), ...(random() < 0.3 ? ['user.content.chat'] : [])])];
    const recipient = pick(['email-platform', 'analytics']);
    const details = type === 'disclosed' ? { recipient } : type === 'transferred' ? { country: 'US', mechanism: 'scc', ...(random() < 0.5 ? { recipient } : {}) } : {};
    return anEvent({ type, system, purpose, categories, details, subject: { id: `visitor:${Math.floor(random() * 50)}` }, occurredAt: `2026-${String(1 + Math.floor(random() * 12)).padStart(2, '0')}-10T10:00:00Z` });
  });
}

const FROM = sortableInstant('2026-04-01T00:00:00Z');
const TO = sortableInstant('2026-08-01T00:00:00Z');
const FILTERS: AuditFilter[] = [
  { purpose: 'marketing' }, { type: 'disclosed' }, { system: 'legacy-crm' }, { purpose: 'ai-training' }, { category: 'user.content.chat' },
  { purpose: 'marketing', type: 'used' }, { system: 'plugins', category: 'user.contact.email', type: 'collected' }, { recipient: 'email-platform' },
  { recipient: 'analytics', type: 'transferred', purpose: 'statistics' }, { purpose: 'no-such-purpose' }, { type: 'erased' }, { purpose: 'chat', system: 'no-such-system' },
  { purpose: 'marketing', from: FROM, to: TO }, { category: 'user.device.ip_address', to: FROM }, { system: 'legacy-crm', from: FROM }, { purpose: 'ai-training', to: TO, type: 'used' }, { type: 'used', through: 2500 }, { system: 'legacy-crm', through: 1800 },
  // The disclosure register's (from the recipients' index).
  { disclosures: true }, { disclosures: true, recipients: ['email-platform'] }, { disclosures: true, recipients: ['analytics', 'email-platform', 'nobody'], from: FROM, through: 3000 },
];

function matches(f: AuditFilter, { position, entry: e }: AuditRow): boolean {
  return (f.purpose === undefined || e.purpose === f.purpose) && (f.system === undefined || e.system === f.system) && (f.type === undefined || e.type === f.type)
    && (f.category === undefined || e.categories.includes(f.category)) && (f.recipient === undefined || e.details?.recipient === f.recipient)
    && (f.from === undefined || sortableInstant(e.occurredAt) >= f.from) && (f.to === undefined || sortableInstant(e.occurredAt) < f.to)
    && (f.through === undefined || position <= f.through)
    && (!f.disclosures || ((e.type === 'disclosed' || e.type === 'transferred') && typeof e.details?.recipient === 'string' && (!f.recipients || f.recipients.includes(e.details.recipient))));
}

async function expectFilteredPages(s: LedgerStorage, tenant: string) {
  const all = await s.auditTrail.page(tenant, {}, -1, 100_000);
  expect(all.length).toBeGreaterThan(2 * FACET_BLOCK);
  for (const filter of FILTERS) {
    const expected = all.filter((r) => matches(filter, r));
    const label = JSON.stringify(filter);
    expect([label, await s.auditTrail.page(tenant, filter, -1, 100_000)]).toEqual([label, expected]);
    const paged: AuditRow[] = [];
    for (let after = -1; ;) {
      const page = await s.auditTrail.page(tenant, filter, after, 29);
      paged.push(...page);
      if (page.length < 29) break;
      after = page[page.length - 1]!.position;
    }
    expect([label, paged.map((r) => r.position)]).toEqual([label, expected.map((r) => r.position)]);
    for (const after of [0, 700, FACET_BLOCK - 1, FACET_BLOCK, 1500, 2047, 2048, 3100, all[all.length - 1]!.position]) {
      expect([label, after, (await s.auditTrail.page(tenant, filter, after, 20)).map((r) => r.position)])
        .toEqual([label, after, expected.filter((r) => r.position > after).slice(0, 20).map((r) => r.position)]);
    }
  }
}

/** The facet index as stored: the same log gives the same rows, however its commits were cut. */
async function facetRows(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const blocks = await c.query<{ r: string }>("select tenant || ' ' || facet || ' ' || block || ' ' || bits::text as r from pdl.audit_facets order by tenant, facet, block");
    const counts = await c.query<{ r: string }>("select tenant || ' ' || facet || ' ' || n as r from pdl.audit_facet_counts order by tenant, facet");
    return [...blocks.rows, ...counts.rows].map((x) => x.r);
  } finally {
    await c.end();
  }
}

describe('the trail\'s facet index on PostgreSQL', () => {
  it('answers every filter as the whole trail filtered: built commit by commit, rebuilt, and filled by its migration', async () => {
    const db = await freshDatabase();
    try {
      let s = await openPostgresStorage(db.url, master, { writes: 'in-thread' });
      try {
        const writer = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
        for (const tenant of ['acme', 'other']) await declareTenant(writer, tenant, { name: tenant });
        const random = generator(7);
        const record = async (tenant: string, n: number) => {
          const d = decodeAppendBody({ events: events(n, random) });
          if (d._tag === 'Left') throw new Error(`bad test events: ${JSON.stringify(d.left)}`);
          expect((await writer.record(tenant, d.right))._tag).toBe('Right');
        };
        // Commits of every size, the two tenants' interleaved, across blocks' edges; requests sent together
        // (one commit, when grouped, larger than a block).
        for (const [tenant, n] of [['acme', 1], ['acme', 300], ['other', 200], ['acme', 1000], ['other', 50], ['acme', 17], ['acme', 900], ['other', 1000], ['acme', 600]] as const) await record(tenant, n);
        await Promise.all([record('acme', 700), record('acme', 700), record('other', 1000)]);
        await writer.drain();
        await expectFilteredPages(s, 'acme');
        await expectFilteredPages(s, 'other');
      } finally {
        await s.close();
      }
      const stored = await facetRows(db.url);
      expect(stored.length).toBeGreaterThan(20);

      // Rebuilt: the rebuild's batches instead of the commits, the same rows.
      s = await openPostgresStorage(db.url, master, { writes: 'in-thread', rebuild: {} });
      try {
        expect(s.rebuilt?.events).toBeGreaterThan(5000);
        await expectFilteredPages(s, 'acme');
        await expectFilteredPages(s, 'other');
      } finally {
        await s.close();
      }
      expect(await facetRows(db.url)).toEqual(stored);

      // A ledger of before the index: its migration fills it from the trail.
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        await c.query("drop table pdl.audit_facets, pdl.audit_facet_counts; delete from pdl.pdl_migrations where component = 'read-models' and version in (5, 7)");
      } finally {
        await c.end();
      }
      s = await openPostgresStorage(db.url, master, { writes: 'in-thread' });
      try {
        await expectFilteredPages(s, 'acme');
        await expectFilteredPages(s, 'other');
      } finally {
        await s.close();
      }
      expect(await facetRows(db.url)).toEqual(stored);
    } finally {
      await db.drop();
    }
  }, 180_000);
});
