import { randomUUID } from 'node:crypto';
import { schemaPool } from '../../src/common/postgres/migrations.js';
import type { EventStore } from '../../src/ledger/event-store.port.js';
import { EsdbEventStore } from '../../src/ledger/eventstoredb/esdb-event-store.js';
import { PG_URL } from '../support/postgres.js';
import { eventStoreContract } from './event-store.contract.js';

/**
 * The event-store contract on EventStoreDB, wherever a server is given (`PDL_ESDB_URL`, e.g.
 * `esdb://127.0.0.1:2113?tls=false`). This machine has none: the suite is skipped here, and says so.
 */
const ESDB = process.env.PDL_ESDB_URL;

if (ESDB) {
  eventStoreContract('EventStoreDB', async (): Promise<EventStore> => {
    const schema = `pdl_esdb_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    const pool = schemaPool(PG_URL, schema, 2);
    const store = await EsdbEventStore.open(ESDB, pool, schema);
    return Object.assign(Object.create(store) as EventStore, {
      close: async () => {
        await store.close();
        await pool.query(`drop schema if exists ${schema} cascade`);
        await pool.end();
      },
    });
  });
} else {
  describe('the EventStoreDB event store', () => {
    it.skip('passes the event-store contract (set PDL_ESDB_URL to an EventStoreDB server to run it; none runs on this machine)', () => undefined);
  });
}
