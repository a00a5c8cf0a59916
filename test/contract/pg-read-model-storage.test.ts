import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { IdentifierVault } from '../../src/keys/application/identifier-vault.js';
import { LedgerWriter } from '../../src/ledger/application/ledger-writer.js';
import { decodeAppendBody } from '../../src/ledger/domain/processing-event.js';
import { openPostgresStorage } from '../../src/storage/postgres-storage.js';
import { anEvent, declareTenant } from '../support/builders.js';
import { freshDatabase, PG_URL } from '../support/postgres.js';

const master = { key: randomBytes(32), id: 'test' };

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
