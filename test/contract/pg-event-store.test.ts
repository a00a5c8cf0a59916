import { randomUUID } from 'node:crypto';
import { PgEventStore } from '../../src/ledger/postgres/pg-event-store.js';
import type { EventStore } from '../../src/ledger/event-store.port.js';
import { eventStoreContract } from './event-store.contract.js';
import { leafHash } from '../../src/ledger/domain/canonical.js';
import { link } from '../../src/ledger/domain/chain.js';

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

  it('links ledger entries again after what other writers appended meanwhile, when asked (relink)', async () => {
    const schema = `pdl_test_${randomUUID().slice(0, 8)}`;
    const [a, b] = [await fresh(schema), await fresh(schema)];
    try {
      const stream = 'ledger-acme';
      const entry = (n: number) => ({ v: 1, tenant: 'acme', eventId: randomUUID(), n, position: -1 });
      const asEvents = (linked: ReturnType<typeof link<ReturnType<typeof entry>>>) => linked.map((l) => ({ eventId: l.entry.eventId, type: 't', data: l.data, leafHash: l.leaf, context: l.entry }));
      const first = link([entry(0), entry(1)], 0, undefined);
      expect((await a.append([{ stream, expectedRevision: 'no_stream', events: asEvents(first) }]))[0]).toMatchObject({ _tag: 'Appended', lastRevision: 1 });
      // Writer a links two more on its view (after revision 1); writer b appends first.
      const mine = link([entry(2), entry(3)], 2, first[1]!.hash);
      const theirs = link([entry(9)], 2, first[1]!.hash);
      expect((await b.append([{ stream, expectedRevision: 1, events: asEvents(theirs) }]))[0]).toMatchObject({ _tag: 'Appended', lastRevision: 2 });
      // Without relink: the expected revision is stale. With it: placed after b's entry, linked again.
      expect((await a.append([{ stream, expectedRevision: 1, events: asEvents(mine) }]))[0]).toMatchObject({ _tag: 'WrongExpectedRevision', actual: 2 });
      const [o] = await a.append([{ stream, expectedRevision: 1, events: asEvents(mine), relink: true }]);
      expect(o).toMatchObject({ _tag: 'Appended', firstRevision: 3, lastRevision: 4, idempotent: false });
      const log = await a.readStream(stream, 0, 10);
      const entries = log.map((e) => JSON.parse(e.data.toString('utf8')));
      expect(entries.map((e) => e.n)).toEqual([0, 1, 9, 2, 3]);
      expect(entries.map((e) => e.position)).toEqual([0, 1, 2, 3, 4]);
      const leaves = log.map((e) => leafHash(e.data).toString('hex'));
      expect(entries.slice(1).map((e) => e.prev)).toEqual(leaves.slice(0, -1));
      expect(o!._tag === 'Appended' && o!.relinked).toEqual(leaves.slice(3));
      // An id already in the log is never relinked into it a second time.
      const again = link([entry(5), { ...entries[3], position: -1 }], 3, first[1]!.hash);
      expect((await b.append([{ stream, expectedRevision: 2, events: asEvents(again), relink: true }]))[0]!._tag).not.toBe('Appended');
      expect(await a.streamRevision(stream)).toBe(4);
    } finally {
      await a.dropSchema();
      await Promise.all([a.close(), b.close()]);
    }
  });

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
