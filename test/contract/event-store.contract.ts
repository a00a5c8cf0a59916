import { randomUUID } from 'node:crypto';
import type { EventStore, NewEvent } from '../../src/ledger/event-store.port.js';

const newEvent = (type = 'thing-happened', body: object = {}): NewEvent => {
  const eventId = randomUUID();
  return { eventId, type, data: Buffer.from(JSON.stringify({ eventId, ...body })) };
};

/** The behaviour every event store adapter must show: run it against each one. */
export function eventStoreContract(name: string, open: () => Promise<EventStore>) {
  describe(`the ${name} event store`, () => {
    let store: EventStore;
    beforeEach(async () => { store = await open(); });
    afterEach(async () => { await store.close(); });
    const stream = () => `ledger-${randomUUID().slice(0, 8)}`;

    it('knows no revision for a stream that does not exist', async () => {
      expect(await store.streamRevision(stream())).toBeNull();
    });

    it('appends to a new stream from revision 0, and reads the same bytes back in order', async () => {
      const s = stream();
      const events = [newEvent(), newEvent(), newEvent()];
      const [outcome] = await store.append([{ stream: s, expectedRevision: 'no_stream', events }]);
      expect(outcome).toEqual({ _tag: 'Appended', stream: s, firstRevision: 0, lastRevision: 2, idempotent: false });
      const read = await store.readStream(s, 0, 10);
      expect(read.map((r) => r.revision)).toEqual([0, 1, 2]);
      expect(read.map((r) => r.eventId)).toEqual(events.map((e) => e.eventId));
      expect(read.map((r) => r.data.toString())).toEqual(events.map((e) => Buffer.from(e.data).toString()));
      expect(await store.streamRevision(s)).toBe(2);
    });

    it('refuses an append whose expected revision is not the last one, writing nothing', async () => {
      const s = stream();
      await store.append([{ stream: s, expectedRevision: 'no_stream', events: [newEvent()] }]);
      const [stale] = await store.append([{ stream: s, expectedRevision: 'no_stream', events: [newEvent()] }]);
      expect(stale).toMatchObject({ _tag: 'WrongExpectedRevision', actual: 0 });
      const [ahead] = await store.append([{ stream: s, expectedRevision: 5, events: [newEvent()] }]);
      expect(ahead).toMatchObject({ _tag: 'WrongExpectedRevision', actual: 0 });
      expect(await store.streamRevision(s)).toBe(0);
    });

    it('treats re-appending the same events at the same revision as done (idempotent)', async () => {
      const s = stream();
      const events = [newEvent(), newEvent()];
      await store.append([{ stream: s, expectedRevision: 'no_stream', events }]);
      const [again] = await store.append([{ stream: s, expectedRevision: 'no_stream', events }]);
      expect(again).toMatchObject({ _tag: 'Appended', firstRevision: 0, lastRevision: 1, idempotent: true });
      expect((await store.readStream(s, 0, 10)).length).toBe(2);
    });

    it('refuses an event id already in the stream at another place', async () => {
      const s = stream();
      const first = newEvent();
      await store.append([{ stream: s, expectedRevision: 'no_stream', events: [first, newEvent()] }]);
      const [dup] = await store.append([{ stream: s, expectedRevision: 1, events: [newEvent(), first] }]);
      expect(dup).toEqual({ _tag: 'DuplicateEventIds', stream: s, eventIds: [first.eventId] });
      expect(await store.streamRevision(s)).toBe(1);
    });

    it('commits several streams at once, each succeeding or failing on its own', async () => {
      const [a, b] = [stream(), stream()];
      await store.append([{ stream: b, expectedRevision: 'no_stream', events: [newEvent()] }]);
      const outcomes = await store.append([
        { stream: a, expectedRevision: 'no_stream', events: [newEvent(), newEvent()] },
        { stream: b, expectedRevision: 'no_stream', events: [newEvent()] },
      ]);
      expect(outcomes.map((o) => o._tag)).toEqual(['Appended', 'WrongExpectedRevision']);
      expect(await store.streamRevision(a)).toBe(1);
      expect(await store.streamRevision(b)).toBe(0);
    });

    it('finds recorded events by id, and only in their own stream', async () => {
      const [a, b] = [stream(), stream()];
      const e = newEvent();
      await store.append([{ stream: a, expectedRevision: 'no_stream', events: [newEvent(), e] }]);
      expect((await store.findByEventIds(a, [e.eventId, randomUUID()])).map((r) => [r.eventId, r.revision])).toEqual([[e.eventId, 1]]);
      expect(await store.findByEventIds(b, [e.eventId])).toEqual([]);
    });

    it('reads all streams in one global order that grows with each commit', async () => {
      const [a, b] = [stream(), stream()];
      const before = await store.readAll(0n, 1_000_000);
      const start = before.length ? before[before.length - 1]!.globalPosition + 1n : 0n;
      await store.append([{ stream: a, expectedRevision: 'no_stream', events: [newEvent()] }]);
      await store.append([{ stream: b, expectedRevision: 'no_stream', events: [newEvent()] }, { stream: a, expectedRevision: 0, events: [newEvent()] }]);
      const all = await store.readAll(start, 100);
      expect(all.map((r) => `${r.stream === a ? 'a' : 'b'}${r.revision}`)).toEqual(['a0', 'b0', 'a1']);
      expect(all.every((r, i) => i === 0 || r.globalPosition > all[i - 1]!.globalPosition)).toBe(true);
    });

    it('pages a stream from any revision', async () => {
      const s = stream();
      await store.append([{ stream: s, expectedRevision: 'no_stream', events: Array.from({ length: 25 }, () => newEvent()) }]);
      expect((await store.readStream(s, 10, 5)).map((r) => r.revision)).toEqual([10, 11, 12, 13, 14]);
      expect(await store.readStream(s, 25, 5)).toEqual([]);
    });
  });
}
