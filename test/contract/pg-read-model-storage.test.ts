import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { IdentifierVault } from '../../src/keys/application/identifier-vault.js';
import { LedgerWriter } from '../../src/ledger/application/ledger-writer.js';
import type { DraftEntry } from '../../src/ledger/domain/log-entry.js';
import { decodeAppendBody } from '../../src/ledger/domain/processing-event.js';
import { openPostgresStorage } from '../../src/storage/postgres-storage.js';
import type { LedgerStorage } from '../../src/storage/storage.js';
import { anEvent, declareTenant } from '../support/builders.js';
import { freshDatabase, PG_URL } from '../support/postgres.js';

const master = { key: randomBytes(32), id: 'test' };

/** A ledger process's append path on `s`: administrative entries, and events of `visitor-1` (the findings each raised, by code). */
function aProcess(s: LedgerStorage) {
  const writer = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
  return {
    async admin(drafts: Array<Omit<DraftEntry, 'eventId' | 'actor'>>) {
      const r = await writer.append('acme', async () => ({ _tag: 'Right', right: { drafts: drafts.map((d) => ({ ...d, eventId: randomUUID(), actor: { type: 'admin', id: 'test' } })), answer: () => null } }) as never);
      expect(r._tag).toBe('Right');
    },
    async record(event: Record<string, unknown>): Promise<string[]> {
      const d = decodeAppendBody({ events: [{ eventId: randomUUID(), subject: { id: 'visitor-1' }, system: 'core', occurredAt: '2026-03-01T10:00:00Z', ...event }] });
      if (d._tag === 'Left') throw new Error(`bad test event: ${JSON.stringify(d.left)}`);
      const r = await writer.record('acme', d.right);
      if (r._tag === 'Left') throw new Error(r.left._tag);
      return r.right.flatMap((x) => x.findings.map((f) => f.code));
    },
  };
}

describe('the PostgreSQL read models as stored', () => {
  it('update each subject\'s compliance document in place (heap-only updates), event after event', async () => {
    const db = await freshDatabase();
    try {
      const s = await openPostgresStorage(db.url, master, { writes: 'in-thread' });
      try {
        const writer = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
        await declareTenant(writer);
        // 300 subjects (their documents fill some 20 pages), 5 events each, one request of 300 per round: each
        // event rewrites its subject's document.
        for (let round = 0; round < 5; round++) {
          const d = decodeAppendBody({ events: Array.from({ length: 300 }, (_, i) => anEvent({ subject: { id: `visitor:${i}` } })) });
          if (d._tag === 'Left') throw new Error('bad test event');
          expect((await writer.record('acme', d.right))._tag).toBe('Right');
        }
        await writer.drain();
      } finally {
        // Closing ends the pool's sessions, which hands their statistics over.
        await s.close();
      }
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        const { rows: [stats] } = await c.query<{ upd: string; hot: string }>(
          "select n_tup_upd as upd, n_tup_hot_upd as hot from pg_stat_user_tables where schemaname = 'pdl' and relname = 'cmp_subjects'");
        expect(Number(stats!.upd)).toBeGreaterThanOrEqual(300 * 4);
        // Measured: 8 of 1,200 heap-only without room on the pages (fillfactor 100); with it, 73% (the whole suite
        // running beside it) to 94%: dead versions are pruned only once no transaction of the database may see them.
        expect(Number(stats!.hot)).toBeGreaterThanOrEqual(0.5 * Number(stats!.upd));
      } finally {
        await c.end();
      }
    } finally {
      await db.drop();
    }
  });

  it('judges each event against what another process sharing the database recorded just before it', async () => {
    // Whatever a process keeps in memory of what it folded last (its Merkle frontiers now; the declarations and
    // the subjects' documents were kept too in a trial, README) is out of date once the other one has appended.
    const db = await freshDatabase();
    const purpose = (legalBasis: string, categories: string[]) => ({ title: 'T', legalBasis, categories, retention: { period: 'P30D', from: 'collection' } });
    try {
      const sa = await openPostgresStorage(db.url, master, { writes: 'in-thread' });
      const sb = await openPostgresStorage(db.url, master, { writes: 'in-thread' }).catch(async (e: unknown) => { await sa.close(); throw e; });
      try {
        const [a, b] = [aProcess(sa), aProcess(sb)];
        await a.admin([
          { type: 'tenant-declared', settings: { name: 'Acme', residency: ['EEA'] } },
          { type: 'system-declared', declaration: { id: 'core', version: 1, body: { name: 'Core', country: 'NL' } } },
          { type: 'purpose-declared', declaration: { id: 'chat', version: 1, body: purpose('legitimate-interests', ['user.contact.email']) } },
          { type: 'purpose-declared', declaration: { id: 'news', version: 1, body: purpose('consent', ['user.contact.email']) } },
        ] as never);
        const email = { type: 'used', categories: ['user.contact.email'] };
        expect(await a.record({ type: 'collected', categories: ['user.device.ip_address'], purpose: 'chat', details: { source: 'observed' } })).toEqual(['category-not-declared']);
        expect(await a.record({ type: 'consent-given', categories: ['user.contact.email'], purpose: 'news' })).toEqual([]);
        expect(await a.record({ ...email, purpose: 'news' })).toEqual([]);
        // Twice each, so that each process has just folded a commit of its own when the other one appends.
        for (let round = 0; round < 2; round++) {
          await b.admin([{ type: 'purpose-declared', declaration: { id: 'chat', version: 2 + 2 * round, body: purpose('legitimate-interests', ['user.contact.email', 'user.device.ip_address']) } }] as never);
          expect(await a.record({ type: 'collected', categories: ['user.device.ip_address'], purpose: 'chat', details: { source: 'observed' } })).toEqual([]);
          expect(await b.record({ type: 'consent-withdrawn', categories: ['user.contact.email'], purpose: 'news' })).toEqual([]);
          expect(await a.record({ ...email, purpose: 'news' })).toEqual(['consent-missing']);
          await b.admin([{ type: 'purpose-declared', declaration: { id: 'chat', version: 3 + 2 * round, body: purpose('legitimate-interests', ['user.contact.email']) } }] as never);
          expect(await a.record({ type: 'collected', categories: ['user.device.ip_address'], purpose: 'chat', details: { source: 'observed' } })).toEqual(['category-not-declared']);
          expect(await b.record({ type: 'consent-given', categories: ['user.contact.email'], purpose: 'news' })).toEqual([]);
          expect(await a.record({ ...email, purpose: 'news' })).toEqual([]);
          expect(await b.record({ ...email, purpose: 'news' })).toEqual([]);
        }
      } finally {
        await sa.close();
        await sb.close();
      }
    } finally {
      await db.drop();
    }
  });

  it('refuses a database whose encoding is not UTF-8, at start', async () => {
    const name = `pdl_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query(`create database ${name} encoding 'SQL_ASCII' template template0`);
      const url = new URL(PG_URL);
      url.pathname = `/${name}`;
      await expect(openPostgresStorage(url.toString(), master, { writes: 'in-thread' })).rejects.toThrow(/must use the UTF8 encoding \(this one uses SQL_ASCII\)/);
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
