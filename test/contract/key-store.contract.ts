import { randomBytes } from 'node:crypto';
import { keyRefId, WrongMasterKey, type KeyStore } from '../../src/keys/key-store.port.js';
import type { MasterKey } from '../../src/keys/master-key.js';

/** A key store backend for the contract: stores opened over the same storage, then the storage thrown away. */
export interface KeyStoreBackend {
  open(master: MasterKey): Promise<KeyStore & { shutdown(): Promise<void> }>;
  dispose(): Promise<void>;
}

const master = { key: randomBytes(32), id: 'test' };
const IP = { subject: 'visitor:a', category: 'user.device.ip_address' };
const EMAIL = { subject: 'visitor:a', category: 'user.contact.email' };

/** The behaviour every key store must show: run it against each backend. */
export function keyStoreContract(name: string, backend: () => Promise<KeyStoreBackend>) {
  describe(`the ${name} key store`, () => {
    let b: KeyStoreBackend;
    beforeEach(async () => { b = await backend(); });
    afterEach(async () => { await b.dispose(); });

    it('creates a key once per (subject, category) and finds it again after a restart', async () => {
      const store = await b.open(master);
      const created = (await store.dataKeys('acme', [IP], true)).values().next().value!;
      expect((await store.dataKeys('acme', [IP], true)).values().next().value!.key.equals(created.key)).toBe(true);
      await store.commit();
      await store.shutdown();
      const again = await b.open(master);
      expect((await again.dataKeys('acme', [IP], false)).values().next().value!.key.equals(created.key)).toBe(true);
      expect(await again.dataKeyGeneration('acme', IP, created.generation)).toEqual(created.key);
      expect((await again.dataKeys('other', [IP], false)).size).toBe(0);
      await again.shutdown();
    });

    it('keeps how far each kind of work went in each tenant\'s log, across a restart', async () => {
      const store = await b.open(master);
      expect(await store.logMark('acme', 'erasure-sweep')).toBeNull();
      await store.setLogMark('acme', 'erasure-sweep', { position: 41, hash: 'ab'.repeat(32) });
      await store.setLogMark('acme', 'erasure-sweep', { position: 97, hash: 'cd'.repeat(32) });
      await store.setLogMark('acme', 'key-reconcile', { position: 12, hash: '12'.repeat(32) });
      await store.setLogMark('other', 'erasure-sweep', { position: 3, hash: 'ef'.repeat(32) });
      await store.shutdown();
      const again = await b.open(master);
      expect(await again.logMark('acme', 'erasure-sweep')).toEqual({ position: 97, hash: 'cd'.repeat(32) });
      expect(await again.logMark('acme', 'key-reconcile')).toEqual({ position: 12, hash: '12'.repeat(32) });
      expect(await again.logMark('other', 'erasure-sweep')).toEqual({ position: 3, hash: 'ef'.repeat(32) });
      expect(await again.logMark('other', 'key-reconcile')).toBeNull();
      await again.shutdown();
    });

    it('finds a tenant\'s blind-index key without ever creating one', async () => {
      const store = await b.open(master);
      expect(await store.existingIndexKey('acme')).toBeNull();
      const key = await store.indexKey('acme');
      await store.commit();
      await store.shutdown();
      const again = await b.open(master);
      expect((await again.existingIndexKey('acme'))?.equals(key)).toBe(true);
      expect(await again.existingIndexKey('other')).toBeNull();
      await again.shutdown();
    });

    it('forgets staged keys that were discarded', async () => {
      const store = await b.open(master);
      await store.dataKeys('acme', [IP], true);
      store.discard();
      expect((await store.dataKeys('acme', [IP], false)).size).toBe(0);
      await store.shutdown();
    });

    it('commits again before an earlier commit has written its keys: each key written once, none dropped by a discard meanwhile', async () => {
      const store = await b.open(master);
      const index = await store.indexKey('acme');
      const ip = (await store.dataKeys('acme', [IP], true)).values().next().value!;
      // The writer's next cycle committed before the first one's keys are written (a pipelined writer),
      // then a failed log commit: neither commit's keys are dropped, nor written twice.
      const first = store.commit();
      const second = store.commit();
      store.discard();
      await Promise.all([first, second]);
      expect((await store.dataKeys('acme', [IP], false)).get(keyRefId(IP))!.key.equals(ip.key)).toBe(true);
      await store.shutdown();
      const again = await b.open(master);
      expect((await again.existingIndexKey('acme'))?.equals(index)).toBe(true);
      expect((await again.dataKeys('acme', [IP], false)).get(keyRefId(IP))!.key.equals(ip.key)).toBe(true);
      await again.shutdown();
    });

    it('opens nothing with another master key, which its check refuses before anything is asked', async () => {
      const fresh = await b.open({ key: randomBytes(32), id: 'any' });
      await expect(fresh.checkMaster()).resolves.toBeUndefined();
      await fresh.shutdown();
      const store = await b.open(master);
      await store.dataKeys('acme', [IP], true);
      await store.commit();
      await expect(store.checkMaster()).resolves.toBeUndefined();
      await store.shutdown();
      const wrong = await b.open({ key: randomBytes(32), id: 'other' });
      await expect(wrong.checkMaster()).rejects.toThrow(new WrongMasterKey('other', ['test']));
      await expect(wrong.dataKeys('acme', [IP], false)).rejects.toThrow(/master key/);
      await wrong.shutdown();
      // A tenant whose data keys came first: its index key is made with its first lookup or identifier.
      const indexOnly = await b.open(master);
      await indexOnly.indexKey('beta');
      await indexOnly.commit();
      await indexOnly.shutdown();
      const wrongAgain = await b.open({ key: randomBytes(32), id: 'other' });
      await expect(wrongAgain.checkMaster()).rejects.toThrow(WrongMasterKey);
      await wrongAgain.shutdown();
    });

    it('answers lookups from the blind index, and keeps its checkpoint', async () => {
      const store = await b.open(master);
      const hmac = randomBytes(32);
      await store.addIndexEntries('acme', [{ hmac, subject: 'visitor:a', category: IP.category }], 7);
      expect(await store.lookup('acme', hmac)).toEqual([{ subject: 'visitor:a', category: IP.category }]);
      expect(await store.lookup('other', hmac)).toEqual([]);
      expect(await store.indexCheckpoint('acme')).toBe(7);
      expect(await store.indexCheckpoint('other')).toBe(-1);
      await store.shutdown();
    });

    it('destroys keys for good: every generation, their index entries, their holds; others stay', async () => {
      const store = await b.open(master);
      await store.dataKeys('acme', [IP, EMAIL], true);
      await store.commit();
      const [ipHmac, emailHmac] = [randomBytes(32), randomBytes(32)];
      await store.addIndexEntries('acme', [{ hmac: ipHmac, ...IP }, { hmac: emailHmac, ...EMAIL }], 3);
      await store.setHold('acme', IP.subject, IP.category, { until: '2027-01-10T10:05:00.000Z', purpose: 'law', legalBasis: 'LCEN' });
      expect((await store.liveKeys('acme', 'visitor:a')).map((k) => k.category)).toEqual([EMAIL.category, IP.category]);
      expect((await store.holds('acme')).map((h) => h.category)).toEqual([IP.category]);
      expect(await store.holds('acme', '2026-12-31T00:00:00.000Z')).toEqual([]);
      await store.destroy('acme', [{ subject: 'visitor:a', categories: [IP.category] }], [{ hmac: ipHmac, ...IP }, { hmac: emailHmac, ...EMAIL }]);
      expect((await store.liveKeys('acme', 'visitor:a')).map((k) => k.category)).toEqual([EMAIL.category]);
      expect((await store.dataKeys('acme', [IP], false)).size).toBe(0);
      expect(await store.dataKeyGeneration('acme', IP, 1)).toBeNull();
      expect(await store.lookup('acme', ipHmac)).toEqual([]);
      expect(await store.lookup('acme', emailHmac)).toEqual([{ subject: 'visitor:a', category: EMAIL.category }]);
      expect(await store.holds('acme')).toEqual([]);
      // A key made again after destruction is a new generation, never the old one.
      const fresh = (await store.dataKeys('acme', [IP], true)).values().next().value!;
      expect(fresh.generation).toBe(1);
      await store.shutdown();
    });
  });
}
