import { randomUUID } from 'node:crypto';
import { PgEventStore } from '../../src/ledger/postgres/pg-event-store.js';
import type { EventStore } from '../../src/ledger/event-store.port.js';
import { eventStoreContract } from './event-store.contract.js';

/** The real PostgreSQL of this machine (`.ci/run` starts it when it is down); each store in a schema of its own. */
const URL = process.env.PDL_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const fresh = async (schema = `pdl_test_${randomUUID().slice(0, 8)}`): Promise<EventStore & { dropSchema(): Promise<void> }> => PgEventStore.open(URL, schema);
const dropping = async (): Promise<EventStore> => {
  const store = await fresh();
  return Object.assign(Object.create(store) as EventStore, { close: async () => { await store.dropSchema(); await store.close(); } });
};

eventStoreContract('PostgreSQL', dropping);

describe('the PostgreSQL event store under several writers', () => {
  it('keeps one gap-free log per stream and one global order when two stores (two processes) append at once', async () => {
    const schema = `pdl_test_${randomUUID().slice(0, 8)}`;
    const [a, b] = [await fresh(schema), await fresh(schema)];
    try {
      const stream = 'ledger-shared';
      const ids = new Set<string>();
      // Each writer appends as the ledger does: read the revision, append at it, retry when another won.
      const writer = async (store: EventStore, n: number) => {
        for (let k = 0; k < n; k++) {
          const eventId = randomUUID();
          ids.add(eventId);
          for (;;) {
            const rev = await store.streamRevision(stream);
            const [o] = await store.append([{ stream, expectedRevision: rev ?? 'no_stream', events: [{ eventId, type: 't', data: Buffer.from(JSON.stringify({ eventId })) }] }]);
            if (o!._tag === 'Appended') break;
            expect(o!._tag).toBe('WrongExpectedRevision');
          }
        }
      };
      await Promise.all([writer(a, 40), writer(b, 40)]);
      const log = await a.readStream(stream, 0, 1000);
      expect(log.map((e) => e.revision)).toEqual(Array.from({ length: 80 }, (_, i) => i));
      expect(new Set(log.map((e) => e.eventId))).toEqual(ids);
      const all = await b.readAll(0n, 1000);
      expect(all.map((e) => Number(e.globalPosition))).toEqual(Array.from({ length: 80 }, (_, i) => i));
      // A duplicate is recognised whichever store received the first copy.
      const [dup] = await b.append([{ stream, expectedRevision: 'any', events: [{ eventId: log[0]!.eventId, type: 't', data: log[0]!.data }] }]);
      expect(dup).toMatchObject({ _tag: 'DuplicateEventIds' });
    } finally {
      await a.dropSchema();
      await Promise.all([a.close(), b.close()]);
    }
  }, 60_000);

  it('applies its migrations once, whoever starts first', async () => {
    const schema = `pdl_test_${randomUUID().slice(0, 8)}`;
    const stores = await Promise.all([fresh(schema), fresh(schema), fresh(schema)]);
    try {
      expect(await stores[0]!.streamRevision('nothing')).toBeNull();
    } finally {
      await stores[0]!.dropSchema();
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
