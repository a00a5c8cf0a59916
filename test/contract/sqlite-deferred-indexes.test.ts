import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { openDatabase } from '../../src/common/sqlite/open-database.js';
import { IdentifierVault } from '../../src/keys/application/identifier-vault.js';
import { LedgerWriter } from '../../src/ledger/application/ledger-writer.js';
import { leafHash } from '../../src/ledger/domain/canonical.js';
import { decodeAppendBody, type ProcessingEvent } from '../../src/ledger/domain/processing-event.js';
import type { EventStore } from '../../src/ledger/event-store.port.js';
import { SqliteEventStore } from '../../src/ledger/sqlite/sqlite-event-store.js';
import { SqliteLogAppender } from '../../src/ledger/sqlite/sqlite-log-appender.js';
import { EventIdIndex, KnownIds } from '../../src/ledger/sqlite/event-id-index.js';
import { FLUSH_EVENTS, type DeferredIndex } from '../../src/ledger/sqlite/deferred-index.js';
import { openEmbeddedStorage } from '../../src/storage/embedded-storage.js';
import { anEvent, declareTenant } from '../support/builders.js';
import { tempDir } from '../support/ledger-process.js';

const newEvent = () => { const eventId = randomUUID(); return { eventId, type: 'thing', data: Buffer.from(JSON.stringify({ eventId })) }; };
const master = { key: randomBytes(32), id: 'test' };
/** Waits for the deferred index to be written (a timer in the store; slower on a loaded machine). */
async function until(done: () => boolean, ms = 15_000) {
  for (const end = Date.now() + ms; !done(); await new Promise((r) => setTimeout(r, 50))) if (Date.now() > end) throw new Error('the deferred index was not written in time');
}
const events = (list: object[]): ProcessingEvent[] => {
  const d = decodeAppendBody({ events: list });
  if (d._tag === 'Left') throw new Error('bad test events');
  return [...d.right];
};

async function withTenant(store: EventStore, writer: LedgerWriter) {
  await declareTenant(writer);
  return store;
}

describe('the embedded store\'s deferred indexes', () => {
  it('completes the idempotency index from the log when the process died before writing it', async () => {
    const file = join(tempDir(), 'ledger.db');
    // A first process appends, then dies before its deferred index is written (never closed, never flushed).
    const crashed = new SqliteLogAppender(openDatabase(file), openDatabase(file));
    const first = [newEvent(), newEvent()];
    crashed.append([{ stream: 'ledger-a', expectedRevision: 'no_stream', events: first }]);
    const store = SqliteEventStore.inThread(openDatabase(file));
    expect((await store.findByEventIds('ledger-a', first.map((e) => e.eventId))).map((r) => r.revision).sort()).toEqual([0, 1]);
    const [again] = await store.append([{ stream: 'ledger-a', expectedRevision: 1, events: [first[0]!] }]);
    expect(again).toMatchObject({ _tag: 'DuplicateEventIds', eventIds: [first[0]!.eventId] });
    const [retry] = await store.append([{ stream: 'ledger-a', expectedRevision: 'no_stream', events: first }]);
    expect(retry).toMatchObject({ _tag: 'Appended', idempotent: true, lastRevision: 1 });
    await store.close();
  });

  it('keeps a group whose flush failed: its duplicates are still recognised, and the next flush writes it', () => {
    const file = join(tempDir(), 'ledger.db');
    let failing = true;
    // Written after the idempotency index in the same transaction: its failure rolls that one back too.
    const flaky: DeferredIndex = { name: 'flaky', schema: '', add() {}, write() { if (failing) throw new Error('disk unavailable'); }, committed() {} };
    const appender = new SqliteLogAppender(openDatabase(file), openDatabase(file), [{ name: 'with-flaky-index', apply() {}, deferred: [flaky] }]);
    const first = [newEvent(), newEvent()];
    appender.append([{ stream: 'ledger-a', expectedRevision: 'no_stream', events: first }]);
    expect(() => appender.flush()).toThrow('disk unavailable');
    const reader = openDatabase(file);
    expect(reader.prepare('select count(*) from event_ids').pluck().get()).toBe(0);
    const [again] = appender.append([{ stream: 'ledger-a', expectedRevision: 1, events: [first[0]!] }]).outcomes;
    expect(again).toMatchObject({ _tag: 'DuplicateEventIds', eventIds: [first[0]!.eventId] });
    failing = false;
    appender.flush();
    expect(reader.prepare('select event_id from event_ids order by event_id').pluck().all()).toEqual(first.map((e) => e.eventId).sort());
    reader.close();
    appender.close();
  });

  it('tries a failed scheduled flush again without failing the appends whose commits it follows', async () => {
    const file = join(tempDir(), 'ledger.db');
    let failures = 0;
    const flaky: DeferredIndex = { name: 'flaky', schema: '', add() {}, write() { if (failures++ < 1) throw new Error('disk unavailable'); }, committed() {} };
    const appender = new SqliteLogAppender(openDatabase(file), openDatabase(file), [{ name: 'with-flaky-index', apply() {}, deferred: [flaky] }]);
    const first = [newEvent()];
    expect(appender.append([{ stream: 'ledger-a', expectedRevision: 'no_stream', events: first }]).outcomes[0]).toMatchObject({ _tag: 'Appended' });
    const reader = openDatabase(file);
    await until(() => failures >= 2);
    expect(reader.prepare('select event_id from event_ids').pluck().all()).toEqual([first[0]!.eventId]);
    reader.close();
    appender.close();
  });

  it('finds duplicates on both sides of the index checkpoint', async () => {
    const file = join(tempDir(), 'ledger.db');
    const store = SqliteEventStore.inThread(openDatabase(file));
    const old = newEvent();
    await store.append([{ stream: 'ledger-a', expectedRevision: 'no_stream', events: [old] }]);
    const reader = openDatabase(file);
    await until(() => reader.prepare('select event_id from event_ids').pluck().all().length > 0);
    expect(reader.prepare('select event_id from event_ids').pluck().all()).toEqual([old.eventId]);
    const recent = newEvent();
    await store.append([{ stream: 'ledger-a', expectedRevision: 0, events: [recent] }]);
    expect((await store.findByEventIds('ledger-a', [old.eventId, recent.eventId, randomUUID()])).map((r) => r.eventId).sort()).toEqual([old.eventId, recent.eventId].sort());
    const [dup] = await store.append([{ stream: 'ledger-a', expectedRevision: 1, events: [newEvent(), old] }]);
    expect(dup).toMatchObject({ _tag: 'DuplicateEventIds', eventIds: [old.eventId] });
    await store.close();
  });

  it('recognises every id behind the filters of known ids: indexed before, taken before a filter was made, and after', async () => {
    const file = join(tempDir(), 'ledger.db');
    // A first process: some ids written to the index, the later ones not (it dies first; the next completes the index).
    const crashed = new SqliteLogAppender(openDatabase(file), openDatabase(file));
    const indexed = [newEvent(), newEvent()];
    crashed.append([{ stream: 'ledger-a', expectedRevision: 'no_stream', events: indexed }]);
    crashed.flush();
    const unindexed = [newEvent()];
    crashed.append([{ stream: 'ledger-a', expectedRevision: 1, events: unindexed }]);
    const store = SqliteEventStore.inThread(openDatabase(file));
    const reader = openDatabase(file);
    const inIndex = (ids: readonly { eventId: string }[]) => ids.every((e) => reader.prepare('select 1 from event_ids where event_id = ?').get(e.eventId));
    // Appended before the store made its filter (its first look-up, next): remembered, not in the index yet.
    const early = [newEvent()];
    await store.append([{ stream: 'ledger-a', expectedRevision: 2, events: early }]);
    const stranger = randomUUID();
    expect((await store.findByEventIds('ledger-a', [...indexed, ...unindexed, ...early].map((e) => e.eventId).concat(stranger))).map((r) => r.revision).sort()).toEqual([0, 1, 2, 3]);
    const later = [newEvent(), newEvent()];
    expect((await store.append([{ stream: 'ledger-a', expectedRevision: 3, events: later }]))[0]).toMatchObject({ _tag: 'Appended', lastRevision: 5 });
    // Once the index holds them, the store forgets them (its next append says so): the filter must know them still.
    await until(() => inIndex([...early, ...later]));
    await store.append([{ stream: 'ledger-a', expectedRevision: 5, events: [newEvent()] }]);
    expect((await store.findByEventIds('ledger-a', [...early, ...later].map((e) => e.eventId))).map((r) => r.revision).sort()).toEqual([3, 4, 5]);
    for (const old of [indexed[0]!, unindexed[0]!, early[0]!, later[1]!]) {
      const [dup] = await store.append([{ stream: 'ledger-a', expectedRevision: 6, events: [newEvent(), old] }]);
      expect(dup).toMatchObject({ _tag: 'DuplicateEventIds', eventIds: [old.eventId] });
    }
    // In another stream, the same ids are other events.
    expect(await store.findByEventIds('ledger-b', [indexed[0]!.eventId, later[0]!.eventId])).toEqual([]);
    reader.close();
    await store.close();
  });

  it('makes its filter of known ids a step at a time, with the ids taken and not written yet, looking every id up until it is made', async () => {
    const db = openDatabase(join(tempDir(), 'ledger.db'));
    const index = new EventIdIndex();
    db.exec(index.schema);
    const insert = db.prepare('insert into event_ids (stream, event_id, revision) values (?, ?, ?)');
    const written = Array.from({ length: 12_000 }, (_, i) => [i % 2 ? 'ledger-a' : 'ledger-b', randomUUID(), i] as const);
    db.transaction(() => { for (const r of written) insert.run(...r); })();
    const taken = new Map([['ledger-a', new Map([[randomUUID(), 12_000]])]]);
    const known = new KnownIds(db, [taken, undefined]);
    const stranger = randomUUID();
    // Not made yet: every id may be known.
    expect([known.ready, known.mightHave('ledger-a', stranger)]).toEqual([false, true]);
    // Written while it is being made, after the rows it has read: taken (added) first, as the appender does.
    const later = randomUUID();
    known.add('ledger-b', later);
    insert.run('ledger-b', later, 12_001);
    await until(() => known.ready);
    const all: Array<readonly [string, string]> = [...written.map(([s, id]) => [s, id] as const), ['ledger-a', [...taken.get('ledger-a')!.keys()][0]!], ['ledger-b', later]];
    expect(all.filter(([s, id]) => !known.mightHave(s, id))).toEqual([]);
    // Made: most ids it never saw are answered without a look-up.
    const strangers = Array.from({ length: 1000 }, () => randomUUID());
    expect(strangers.filter((id) => known.mightHave('ledger-a', id)).length).toBeLessThan(50);
    db.close();
  });

  it('answers a subject\'s audit trail across its deferred index and the rows after it, in order', async () => {
    const dir = tempDir();
    const s = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
    const writer = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
    await withTenant(s.eventStore, writer);
    const alice = { id: 'visitor:alice' };
    const bob = { id: 'visitor:bob' };
    expect((await writer.record('acme', events([anEvent({ subject: alice }), anEvent({ subject: bob }), anEvent({ subject: alice })])))._tag).toBe('Right');
    const reader = openDatabase(join(dir, 'ledger.db'));
    await until(() => reader.prepare('select position from audit_subjects_through').pluck().all().length > 0);
    expect(reader.prepare('select position from audit_subjects_through').pluck().all()).toEqual([3]);
    expect((await writer.record('acme', events([anEvent({ subject: bob }), anEvent({ subject: alice })])))._tag).toBe('Right');
    const positions = async (subject: string, after = -1, limit = 10) => (await s.auditTrail.page('acme', { subject }, after, limit)).map((r) => r.position);
    expect(await positions('visitor:alice')).toEqual([1, 3, 5]);
    expect(await positions('visitor:bob')).toEqual([2, 4]);
    expect(await positions('visitor:alice', 1, 1)).toEqual([3]);
    expect(await positions('visitor:alice', 3)).toEqual([5]);
    // Each with its entry's leaf hash, whether read from the index (1, 3) or from the rows after it (5).
    const known = new Map((await s.eventStore.readStream('ledger-acme', 0, 100)).map((e) => [e.revision, leafHash(e.data).toString('hex')]));
    expect((await s.auditTrail.page('acme', { subject: 'visitor:alice' }, -1, 10)).map((r) => r.hash)).toEqual([1, 3, 5].map((p) => known.get(p)));
    await writer.drain();
    await s.close();
    // And after a restart, from the index alone.
    const reopened = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
    const rows = await reopened.auditTrail.page('acme', { subject: 'visitor:alice' }, -1, 10);
    expect(rows.map((r) => r.position)).toEqual([1, 3, 5]);
    expect(rows.map((r) => r.hash)).toEqual([1, 3, 5].map((p) => known.get(p)));
    await reopened.close();
  });
  it('answers a filtered trail across its facet index and the rows after it, in order, with paging', async () => {
    const dir = tempDir();
    const s = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
    const writer = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
    await withTenant(s.eventStore, writer);
    const email = { categories: ['user.device.ip_address', 'user.contact.email'] };
    const sent = { type: 'disclosed', details: { recipient: 'mailer' } };
    // Positions 1..6 (then written to the index), 7..9 after it.
    expect((await writer.record('acme', events([anEvent(), anEvent({ ...email, system: 'plugins', ...sent }), anEvent({ purpose: 'marketing' }), anEvent(email),
      anEvent({ system: 'plugins' }), anEvent({ ...email, system: 'plugins', purpose: 'marketing', ...sent })])))._tag).toBe('Right');
    const reader = openDatabase(join(dir, 'ledger.db'));
    await until(() => reader.prepare('select position from audit_facets_through').pluck().all().length > 0);
    expect(reader.prepare('select position from audit_facets_through').pluck().all()).toEqual([6]);
    expect(reader.prepare("select n from audit_facet_names where facet = 's:plugins'").pluck().get()).toBe(3);
    expect((await writer.record('acme', events([anEvent({ system: 'plugins' }), anEvent({ ...email, ...sent }), anEvent({ ...email, system: 'plugins', ...sent })])))._tag).toBe('Right');
    const positions = async (filter: Record<string, string>, after = -1, limit = 10) => (await s.auditTrail.page('acme', filter, after, limit)).map((r) => r.position);
    expect(await positions({ system: 'plugins' })).toEqual([2, 5, 6, 7, 9]);
    expect(await positions({ category: 'user.contact.email' })).toEqual([2, 4, 6, 8, 9]);
    expect(await positions({ category: 'user.contact.email', system: 'plugins' })).toEqual([2, 6, 9]);
    expect(await positions({ category: 'user.contact.email', system: 'plugins', purpose: 'marketing' })).toEqual([6]);
    expect(await positions({ purpose: 'marketing', type: 'collected' })).toEqual([3]);
    // A recipient with facets: from the recipient's own index, the facets joined.
    expect(await positions({ recipient: 'mailer' })).toEqual([2, 6, 8, 9]);
    expect(await positions({ recipient: 'mailer', system: 'plugins' })).toEqual([2, 6, 9]);
    expect(await positions({ recipient: 'mailer', purpose: 'marketing', type: 'disclosed' })).toEqual([6]);
    expect(await positions({ recipient: 'mailer', type: 'collected' })).toEqual([]);
    expect(await positions({ recipient: 'mailer', system: 'plugins' }, 2, 1)).toEqual([6]);
    expect(await positions({ recipient: 'mailer', system: 'plugins' }, 6, 1)).toEqual([9]);
    expect(await positions({ purpose: 'no-such-purpose' })).toEqual([]);
    expect(await positions({ type: 'erased' })).toEqual([]);
    // Paging across the index's end, with bounds, and as of a position inside the index.
    expect(await positions({ system: 'plugins' }, -1, 2)).toEqual([2, 5]);
    expect(await positions({ system: 'plugins' }, 5, 2)).toEqual([6, 7]);
    expect(await positions({ system: 'plugins' }, 6, 2)).toEqual([7, 9]);
    expect(await positions({ system: 'plugins' }, 9)).toEqual([]);
    expect((await s.auditTrail.page('acme', { system: 'plugins', through: 5 }, -1, 10)).map((r) => r.position)).toEqual([2, 5]);
    expect((await s.auditTrail.page('acme', { system: 'plugins', through: 8 }, -1, 10)).map((r) => r.position)).toEqual([2, 5, 6, 7]);
    // Each with its entry's leaf hash, whether found through the index or after it.
    const known = new Map((await s.eventStore.readStream('ledger-acme', 0, 100)).map((e) => [e.revision, leafHash(e.data).toString('hex')]));
    expect((await s.auditTrail.page('acme', { system: 'plugins' }, -1, 10)).map((r) => r.hash)).toEqual([2, 5, 6, 7, 9].map((p) => known.get(p)));
    await writer.drain();
    await s.close();
    // After a restart (the rows after the index written out by the close), and after a rebuild (filled in bulk): the same answers.
    for (const options of [{}, { rebuild: {} }]) {
      const again = openEmbeddedStorage(dir, master, { writes: 'in-thread', ...options });
      expect((await again.auditTrail.page('acme', { category: 'user.contact.email', system: 'plugins' }, -1, 10)).map((r) => r.position)).toEqual([2, 6, 9]);
      expect(reader.prepare("select n from audit_facet_names where facet = 's:plugins'").pluck().get()).toBe(5);
      await again.close();
    }
    reader.close();
  });
});

describe('the writer\'s pipelined cycles', () => {
  it('prepares again what followed a cycle that did not commit, so positions stay gap-free', async () => {
    const s = openEmbeddedStorage(tempDir(), master, { writes: 'in-thread' });
    let failures = 1;
    const flaky: EventStore = Object.create(s.eventStore, {
      append: { value: async (appends: Parameters<EventStore['append']>[0]) => {
        if (appends.some((a) => a.events.some((e) => e.type === 'collected')) && failures-- > 0) throw new Error('disk unavailable');
        return s.eventStore.append(appends);
      } },
    });
    const writer = new LedgerWriter(flaky, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
    await withTenant(s.eventStore, writer);
    const answers = await Promise.all(Array.from({ length: 8 }, () => writer.record('acme', events([anEvent(), anEvent()]))));
    const refused = answers.filter((a) => a._tag === 'Left');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((a) => a._tag === 'Left' && a.left._tag === 'StoreUnavailable')).toBe(true);
    const positions = answers.flatMap((a) => (a._tag === 'Right' ? a.right.map((r) => r.position) : [])).sort((x, y) => x - y);
    expect(positions).toEqual(Array.from({ length: positions.length }, (_, i) => i + 1));
    const stored = await s.eventStore.readStream('ledger-acme', 0, 100);
    expect(stored.map((r) => r.revision)).toEqual(Array.from({ length: stored.length }, (_, i) => i));
    expect(stored.length).toBe(1 + positions.length);
    await writer.drain();
    await s.close();
  });
});

describe('the embedded data directory', () => {
  it('keeps pace with appends that come faster than its slices write: no more than about two groups wait', async () => {
    const file = join(tempDir(), 'ledger.db');
    // An index whose rows take 1 ms per 100 to write, so that its slices, sized by time, write ~200 a
    // turn of the event loop while 1,000 events come in each turn.
    let taken = 0, written = 0, group = 0, done = 0, held = 0;
    const slow: DeferredIndex = {
      name: 'slow', schema: '',
      add(events) { taken += events.length; held = Math.max(held, taken - written); },
      freeze() { group = taken - written; done = 0; },
      write(_db, budget = Infinity) {
        if (group === 0 && done === 0) group = taken - written;
        const n = Math.min(budget, group - done);
        for (const end = performance.now() + n / 100; performance.now() < end;) { /* the rows' cost */ }
        done += n;
        return done >= group;
      },
      committed() { written += group; group = 0; done = 0; },
      rewind() { done = 0; },
    };
    const appender = new SqliteLogAppender(openDatabase(file), openDatabase(file), [{ name: 'with-a-slow-index', apply() {}, deferred: [slow] }]);
    let revision = -1;
    for (let i = 0; i < 100; i++) {
      appender.append([{ stream: 'ledger-a', expectedRevision: revision < 0 ? 'no_stream' : revision, events: Array.from({ length: 1000 }, newEvent) }]);
      revision += 1000;
      await new Promise((r) => setImmediate(r));
    }
    expect(taken).toBe(100_000);
    expect(held).toBeGreaterThan(FLUSH_EVENTS);
    expect(held).toBeLessThanOrEqual(2 * FLUSH_EVENTS + 2_000);
    appender.closeIndexes();
    expect(written).toBe(100_000);
  }, 60_000);

  it('is served by one ledger at a time', async () => {
    const dir = tempDir();
    const first = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
    expect(() => openEmbeddedStorage(dir, master, { writes: 'in-thread' })).toThrow(/another ledger process/);
    await first.close();
    const second = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
    await second.close();
  });
});
