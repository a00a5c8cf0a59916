import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { IdentifierVault } from '../../src/keys/application/identifier-vault.js';
import { LedgerWriter } from '../../src/ledger/application/ledger-writer.js';
import { openEmbeddedStorage } from '../../src/storage/embedded-storage.js';
import { anAction, playActions, uuid } from '../support/random-ledger.js';
import { tempDir } from '../support/ledger-process.js';

/**
 * Tools outside the ledger address a store's rows by rowid (SQLite's own shell habits, and the acceptance
 * checks' tampering, which reads every table with `select rowid, *`): a `WITHOUT ROWID` table, which has
 * none, breaks them. Every table of every SQLite file of a data directory, also after a rebuild, keeps it.
 */
describe('the embedded store\'s files', () => {
  it('have a rowid in every table, as written and after a rebuild', async () => {
    const dir = tempDir();
    const master = { key: randomBytes(32), id: 'test' };
    let n = 0;
    const s = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
    const writer = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
    await playActions(writer, fc.sample(fc.array(anAction, { minLength: 40, maxLength: 40 }), { numRuns: 1, seed: 7 })[0]!, () => uuid(n++), { identifiers: true });
    await writer.drain();
    await s.close();
    const withoutRowid = () => readdirSync(dir).filter((f) => f.endsWith('.db')).flatMap((f) => {
      const db = new Database(join(dir, f), { readonly: true });
      try {
        const tables = db.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'").pluck().all() as string[];
        expect(tables.length).toBeGreaterThan(0);
        return tables.filter((t) => {
          try {
            db.prepare(`select rowid from "${t}" limit 1`).all();
            return false;
          } catch {
            return true;
          }
        }).map((t) => `${f}: ${t}`);
      } finally {
        db.close();
      }
    });
    expect(withoutRowid()).toEqual([]);
    const again = openEmbeddedStorage(dir, master, { writes: 'in-thread', rebuild: {} });
    expect(again.rebuilt?.events).toBeGreaterThan(0);
    await again.close();
    expect(withoutRowid()).toEqual([]);
  }, 60_000);
});
