import { randomUUID } from 'node:crypto';
import { openPgKeyStore, PgKeyStorage } from '../../src/keys/postgres/pg-key-store.js';
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
