import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteKeyStore } from '../../src/keys/sqlite/sqlite-key-store.js';
import { SqliteKeyWriter } from '../../src/keys/sqlite/sqlite-key-writer.js';
import { openDatabase } from '../../src/common/sqlite/open-database.js';
import { FLUSH_EVENTS } from '../../src/ledger/sqlite/deferred-index.js';
import type { MasterKey } from '../../src/keys/master-key.js';
import { tempDir } from '../support/ledger-process.js';
import { keyStoreContract } from './key-store.contract.js';

const openStore = (dir: string, key: MasterKey) => {
  const file = join(dir, 'keys.db');
  const writer = new SqliteKeyWriter(openDatabase(file, { secureDelete: true }), openDatabase(file, { secureDelete: true }));
  const store = new SqliteKeyStore(openDatabase(file, { secureDelete: true }), writer.inThread(), key, () => new Date().toISOString());
  return Object.assign(store, { shutdown: async () => { writer.close(); SqliteKeyStore.prototype.close.call(store); } });
};

keyStoreContract('embedded (SQLite)', async () => {
  const dir = tempDir();
  return { open: async (master) => openStore(dir, master), dispose: async () => undefined };
});

describe('the embedded key store\'s file', () => {
  it('holds data keys only wrapped by the master key', async () => {
    const dir = tempDir();
    const store = openStore(dir, { key: randomBytes(32), id: 'test' });
    const key = (await store.dataKeys('acme', [{ subject: 's', category: 'c' }], true)).values().next().value!;
    await store.commit();
    await store.shutdown();
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f)).includes(key.key)).toBe(false);
  });

  it('keeps blind-index entries whose flush failed, and writes them and their checkpoint with the next', async () => {
    const dir = tempDir();
    const file = join(dir, 'keys.db');
    const writer = new SqliteKeyWriter(openDatabase(file, { secureDelete: true }), openDatabase(file, { secureDelete: true }));
    // A real failure of SQLite's: a trigger refuses index rows while the flag is set.
    const admin = openDatabase(file);
    admin.exec(`create table refuse (on_ integer); insert into refuse values (1);
      create trigger refuse_entries before insert on blind_index when (select count(*) from refuse) > 0 begin select raise(abort, 'disk unavailable'); end;`);
    const entry = (n: number) => ({ hmac: Buffer.alloc(32, n), subject: `s${n}`, category: 'user.contact.email' });
    writer.addIndexEntries('acme', [entry(1)], 3);
    expect(() => writer.flushIndex()).toThrow('disk unavailable');
    writer.addIndexEntries('acme', [entry(2)], 5);
    expect(() => writer.flushIndex()).toThrow('disk unavailable');
    expect(admin.prepare('select count(*) from blind_index_checkpoint').pluck().get()).toBe(0);
    admin.exec('delete from refuse');
    writer.flushIndex();
    expect(admin.prepare('select subject from blind_index order by subject').pluck().all()).toEqual(['s1', 's2']);
    expect(admin.prepare('select position from blind_index_checkpoint where tenant = ?').pluck().get('acme')).toBe(5);
    admin.close();
    writer.close();
  });

  it('keeps the erasure sweep marks of a file of the earlier layout (erasure_sweeps) as log marks', async () => {
    const dir = tempDir();
    const old = openDatabase(join(dir, 'keys.db'));
    old.exec('create table erasure_sweeps (tenant text primary key, position integer not null, hash text not null)');
    old.prepare('insert into erasure_sweeps values (?, ?, ?)').run('acme', 41, 'ab'.repeat(32));
    old.close();
    const store = openStore(dir, { key: randomBytes(32), id: 'test' });
    expect(await store.logMark('acme', 'erasure-sweep')).toEqual({ position: 41, hash: 'ab'.repeat(32) });
    expect(await store.logMark('acme', 'key-reconcile')).toBeNull();
    await store.shutdown();
  });
  it('keeps its blind index\'s writes in pace with entries that come faster than a slice writes: no more than about two groups wait', async () => {
    const file = join(tempDir(), 'keys.db');
    const writer = new SqliteKeyWriter(openDatabase(file, { secureDelete: true }), openDatabase(file, { secureDelete: true }));
    const reader = openDatabase(file);
    const checkpoint = () => (reader.prepare("select position from blind_index_checkpoint where tenant = 'acme'").pluck().get() as number | undefined) ?? -1;
    // 2,000 entries a turn of the event loop: more than a slice ever writes (SLICE_ROWS).
    let position = -1, behind = 0;
    for (let turn = 0; turn < 100; turn++) {
      writer.addIndexEntries('acme', Array.from({ length: 2000 }, (_, i) => ({ hmac: randomBytes(32), subject: `s${i % 500}`, category: 'user.contact.email' })), (position += 2000));
      await new Promise((r) => setImmediate(r));
      behind = Math.max(behind, position - checkpoint());
    }
    expect(behind).toBeGreaterThan(FLUSH_EVENTS);
    expect(behind).toBeLessThanOrEqual(2 * FLUSH_EVENTS + 4_000);
    writer.close();
    expect(checkpoint()).toBe(position);
    expect(reader.prepare('select count(*) from blind_index').pluck().get()).toBe(200_000);
    reader.close();
  }, 60_000);
});
