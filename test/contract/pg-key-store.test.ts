import { randomBytes, randomUUID } from 'node:crypto';
import { fingerprint } from '../../src/keys/master-key.js';
import { rotatePgMaster } from '../../src/keys/postgres/rotate-master.js';
import { freshDatabase } from '../support/postgres.js';
import { openPgKeyStore, PgKeyStorage } from '../../src/keys/postgres/pg-key-store.js';
import { KeyRace } from '../../src/keys/key-store.port.js';
import { keyStoreContract } from './key-store.contract.js';

/** The real PostgreSQL of this machine (`.ci/run` starts it when it is down), one schema per test. */
const URL = process.env.PDL_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

keyStoreContract('PostgreSQL', async () => {
  const schema = `pdl_keys_test_${randomUUID().slice(0, 8)}`;
  const opened: PgKeyStorage[] = [];
  return {
    open: async (master) => {
      const { store, storage } = await openPgKeyStore(URL, master, () => new Date().toISOString(), schema);
      opened.push(storage);
      return Object.assign(store, { shutdown: () => storage.end() });
    },
    dispose: async () => {
      const admin = await PgKeyStorage.open(URL, schema);
      await admin.dropSchema();
      await admin.end();
      await Promise.all(opened.map((s) => s.end()));
    },
  };
});

describe('the PostgreSQL key store re-wrapped under a new master key', () => {
  it('opens every key with the new master, none with the old, and changes nothing when a key does not open', async () => {
    const db = await freshDatabase();
    const now = () => new Date().toISOString();
    const masterOf = () => { const key = randomBytes(32); return { key, id: fingerprint(key) }; };
    const [a, b, c] = [masterOf(), masterOf(), masterOf()];
    const ref = { subject: 'visitor:a', category: 'user.device.ip_address' };
    try {
      const first = await openPgKeyStore(db.url, a, now);
      const created = (await first.store.dataKeys('acme', [ref], true)).values().next().value!;
      // More keys than one batch of the bulk re-wrap.
      const more = Array.from({ length: 5002 }, (_, i) => ({ subject: `visitor:${i}`, category: 'user.contact.email' }));
      const createdMore = [...(await first.store.dataKeys('acme', more, true)).values()].map((k) => k.key);
      const index = await first.store.indexKey('acme');
      await first.store.commit();
      await first.storage.end();
      // From a master that did not wrap them: refused, nothing changed.
      await expect(rotatePgMaster(db.url, 'pdl_keys', c, b, null)).rejects.toThrow(/does not open with the current master key/);
      expect(await rotatePgMaster(db.url, 'pdl_keys', a, b, null)).toBe(2 + more.length);
      const withB = await openPgKeyStore(db.url, b, now);
      expect((await withB.store.dataKeys('acme', [ref], false)).values().next().value!.key).toEqual(created.key);
      expect([...(await withB.store.dataKeys('acme', more, false)).values()].map((k) => k.key)).toEqual(createdMore);
      expect(await withB.store.existingIndexKey('acme')).toEqual(index);
      await withB.storage.end();
      const withA = await openPgKeyStore(db.url, a, now);
      await expect(withA.store.dataKeys('acme', [ref], false)).rejects.toThrow(/does not open with the master key/);
      await withA.storage.end();
    } finally {
      await db.drop();
    }
  });
});

describe('two ledger processes creating the same data key at once', () => {
  it('keeps the first one\'s; the other\'s commit is refused as a race and writes none of its keys, with or without a new index key', async () => {
    const db = await freshDatabase();
    const now = () => new Date().toISOString();
    const master = { key: randomBytes(32), id: 'race' };
    const shared = { subject: 'visitor:shared', category: 'user.device.ip_address' };
    try {
      const [a, b] = [await openPgKeyStore(db.url, master, now), await openPgKeyStore(db.url, master, now)];
      for (const [round, tenant] of [['with the tenant\'s new index key', 'acme'], ['data keys alone', 'acme']] as const) {
        const mine = { subject: `visitor:only-b-${round.length}`, category: 'user.contact.email' };
        const first = (await a.store.dataKeys(tenant, [shared], true)).values().next().value!;
        const late = await b.store.dataKeys(tenant, [shared, mine], true);
        if (round.startsWith('with')) { await a.store.indexKey(tenant); await b.store.indexKey(tenant); }
        await a.store.commit();
        await expect(b.store.commit()).rejects.toBeInstanceOf(KeyRace);
        b.store.discard();
        expect(late.size).toBe(2);
        // The first process's key is the one kept; the other's key for its own subject was not written either.
        expect((await b.store.dataKeys(tenant, [shared], false)).values().next().value!.key).toEqual(first.key);
        expect((await b.store.dataKeys(tenant, [mine], false)).size).toBe(0);
        shared.subject += '-again';
      }
      await Promise.all([a.storage.end(), b.storage.end()]);
    } finally {
      await db.drop();
    }
  });
});
