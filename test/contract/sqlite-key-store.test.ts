import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteKeyStore } from '../../src/keys/sqlite/sqlite-key-store.js';
import { SqliteKeyWriter } from '../../src/keys/sqlite/sqlite-key-writer.js';
import { openDatabase } from '../../src/common/sqlite/open-database.js';
import { tempDir } from '../support/ledger-process.js';

const master = { key: randomBytes(32), id: 'test' };
const openStore = (dir: string, key = master) => {
  const file = join(dir, 'keys.db');
  const writer = new SqliteKeyWriter(openDatabase(file, { secureDelete: true }), openDatabase(file, { secureDelete: true }));
  const store = new SqliteKeyStore(openDatabase(file, { secureDelete: true }), writer.inThread(), key, () => new Date().toISOString());
  return Object.assign(store, { close: () => { writer.close(); SqliteKeyStore.prototype.close.call(store); } });
};

describe('the embedded key store', () => {
  it('creates a key once per (subject, category) and finds it again after a restart', async () => {
    const dir = tempDir();
    const store = openStore(dir);
    const ref = { subject: 'visitor:a', category: 'user.device.ip_address' };
    const created = (await store.dataKeys('acme', [ref], true)).values().next().value!;
    await store.commit();
    store.close();
    const again = openStore(dir);
    const found = (await again.dataKeys('acme', [ref], false)).values().next().value!;
    expect(found.key.equals(created.key)).toBe(true);
    expect(await again.dataKeyGeneration('acme', ref, created.generation)).toEqual(created.key);
    again.close();
  });

  it('finds a tenant\'s blind-index key without ever creating one', async () => {
    const dir = tempDir();
    const store = openStore(dir);
    expect(await store.existingIndexKey('acme')).toBeNull();
    const key = await store.indexKey('acme');
    await store.commit();
    store.close();
    const again = openStore(dir);
    expect((await again.existingIndexKey('acme'))?.equals(key)).toBe(true);
    expect(await again.existingIndexKey('other')).toBeNull();
    again.close();
  });

  it('forgets staged keys that were discarded', async () => {
    const store = openStore(tempDir());
    await store.dataKeys('acme', [{ subject: 's', category: 'c' }], true);
    store.discard();
    expect((await store.dataKeys('acme', [{ subject: 's', category: 'c' }], false)).size).toBe(0);
    store.close();
  });

  it('stores data keys only wrapped by the master key', async () => {
    const dir = tempDir();
    const store = openStore(dir);
    const key = (await store.dataKeys('acme', [{ subject: 's', category: 'c' }], true)).values().next().value!;
    await store.commit();
    store.close();
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f)).includes(key.key)).toBe(false);
    expect(() => openStore(dir, { key: randomBytes(32), id: 'other' }).dataKeys('acme', [{ subject: 's', category: 'c' }], false)).rejects.toThrow(/master key/);
  });

  it('answers lookups from the blind index, including entries not yet flushed', async () => {
    const store = openStore(tempDir());
    const hmac = randomBytes(32);
    await store.addIndexEntries('acme', [{ hmac, subject: 'visitor:a', category: 'user.device.ip_address' }], 7);
    expect(await store.lookup('acme', hmac)).toEqual([{ subject: 'visitor:a', category: 'user.device.ip_address' }]);
    expect(await store.lookup('other', hmac)).toEqual([]);
    expect(await store.indexCheckpoint('acme')).toBe(7);
    store.close();
  });
});
