import { createHash, randomBytes } from 'node:crypto';
import { IdentifierVault } from '../../src/keys/application/identifier-vault.js';
import { LedgerWriter } from '../../src/ledger/application/ledger-writer.js';
import { decodeAppendBody, type ProcessingEvent } from '../../src/ledger/domain/processing-event.js';
import canonicalize from 'canonicalize';
import { inCanonicalOrder } from '../../src/ledger/domain/canonical.js';
import type { EventStore, NewEvent } from '../../src/ledger/event-store.port.js';
import type { KeyStore } from '../../src/keys/key-store.port.js';
import { openEmbeddedStorage } from '../../src/storage/embedded-storage.js';
import { openPostgresStorage } from '../../src/storage/postgres-storage.js';
import type { LedgerStorage } from '../../src/storage/storage.js';
import { freshDatabase } from '../support/postgres.js';
import { tempDir } from '../support/ledger-process.js';
import { anEvent, declareTenant } from '../support/builders.js';

const master = { key: randomBytes(32), id: 'test' };
const events = (...raw: Array<Record<string, unknown>>): ProcessingEvent[] => {
  const d = decodeAppendBody({ events: raw });
  if (d._tag === 'Left') throw new Error('bad test event');
  return [...d.right];
};
const turn = () => new Promise((r) => setImmediate(r));
const leaf = (data: Buffer) => createHash('sha256').update(Buffer.from([0])).update(data).digest('hex');

/**
 * The real embedded store, its appends held at a gate the test opens: what arrives while one commit is
 * under way must join the one group waiting to commit next, not queue up behind it in groups of its own.
 * `ordered: false` hides that the store applies appends in order (as PostgreSQL's does not say): the
 * writer then sends one cycle at a time. `fail`: the store fails that many appends (counted from the
 * first after the tenants' declarations) once the gate opens, as a disk error would.
 */
async function gatedWriter({ ordered = true, fail = 0 }: { ordered?: boolean; fail?: number } = {}) {
  const s = openEmbeddedStorage(tempDir(), master, { writes: 'in-thread' });
  const appends: number[] = [];
  /** What the store answered to each append, in the order it applied them. */
  const outcomes: string[] = [];
  let gate: Promise<void> = Promise.resolve();
  let open = () => undefined as void;
  let failing = 0;
  // `holdLookups(stream)`: the writer's next look-up of ids in that stream waits until `releaseLookups`.
  let lookupsHeld: { stream: string; until: Promise<void> } | null = null;
  let releaseLookups = () => undefined as void;
  let lookupWaiting = false;
  const gated: EventStore = new Proxy(s.eventStore, {
    get: (target, p, r) => (p === 'append'
      ? async (...a: Parameters<EventStore['append']>) => {
        appends.push(a[0].reduce((n, x) => n + x.events.length, 0));
        await gate;
        if (failing-- > 0) throw new Error('disk I/O error');
        const answered = await target.append(...a);
        outcomes.push(...answered.map((o) => o._tag));
        return answered;
      }
      : p === 'findByEventIds'
        ? async (...a: Parameters<EventStore['findByEventIds']>) => {
          const held = lookupsHeld;
          if (held && held.stream === a[0]) { lookupsHeld = null; lookupWaiting = true; await held.until; }
          return target.findByEventIds(...a);
        }
        : p === 'ordered' ? ordered && target.ordered : Reflect.get(target, p, r)),
  });
  const holdLookups = (stream: string) => { lookupsHeld = { stream, until: new Promise((r) => { releaseLookups = () => r(); }) }; };
  // `holdKeys`: the next commit of new data keys waits until `releaseKeys` (a slow trip to the key store).
  let keysHeld: Promise<void> | null = null;
  let releaseKeys = () => undefined as void;
  let keysWaiting = false;
  const keyStore: KeyStore = new Proxy(s.keyStore, {
    get: (target, p, r) => (p === 'commit'
      ? async () => {
        const held = keysHeld;
        keysHeld = null;
        if (held) { keysWaiting = true; await held; }
        return target.commit();
      }
      : Reflect.get(target, p, r)),
  });
  const holdKeys = () => { keysHeld = new Promise((r) => { releaseKeys = () => r(); }); };
  const writer = new LedgerWriter(gated, keyStore, new IdentifierVault(keyStore), { now: () => new Date() });
  for (const tenant of ['acme', 'globex']) {
    await declareTenant(writer, tenant, { name: tenant });
  }
  appends.length = 0;
  failing = fail;
  const close = () => { gate = new Promise((r) => { open = () => r(); }); };
  return {
    s, writer, appends, outcomes, close, open: () => open(), holdKeys, releaseKeys: () => releaseKeys(), keysWaiting: () => keysWaiting,
    holdLookups, releaseLookups: () => releaseLookups(), lookupWaiting: () => lookupWaiting,
  };
}

/** Each tenant's log has positions 0, 1, 2… and each entry chains to the one before. */
async function expectChained(s: LedgerStorage, tenant: string): Promise<number> {
  const log = await s.eventStore.readStream(`ledger-${tenant}`, 0, 1000);
  expect(log.map((e) => e.revision)).toEqual(log.map((_, i) => i));
  const entries = log.map((e) => JSON.parse(e.data.toString('utf8')));
  expect(entries.slice(1).every((e, i) => e.prev === leaf(log[i]!.data) && e.position === i + 1)).toBe(true);
  return log.length;
}

describe('group commit while a commit is under way', () => {
  /** The first request's commit held; twelve requests of two events arrive one by one meanwhile. */
  async function heldWhileTwelveArrive(ordered: boolean) {
    const { s, writer, appends, close, open } = await gatedWriter({ ordered });
    close();
    const first = writer.record('acme', events(anEvent()));
    while (appends.length === 0) await turn();
    // Arriving one by one, each after the writer had a turn to prepare what came before.
    const later: Array<ReturnType<LedgerWriter['record']>> = [];
    for (let i = 0; i < 12; i++) {
      later.push(writer.record(i % 3 === 0 ? 'globex' : 'acme', events(anEvent(), anEvent())));
      await turn();
      await turn();
    }
    const whileHeld = [...appends];
    open();
    const results = await Promise.all([first, ...later]);
    expect(results.every((r) => r._tag === 'Right')).toBe(true);
    expect(await expectChained(s, 'acme')).toBe(1 + 1 + 16);
    expect(await expectChained(s, 'globex')).toBe(1 + 8);
    await writer.drain();
    await s.close();
    return { whileHeld, appends };
  }

  it('folds requests arriving during a commit into the next one in groups, chained and gap-free per tenant (one cycle at the store at a time)', async () => {
    const { whileHeld, appends } = await heldWhileTwelveArrive(false);
    expect(whileHeld).toEqual([1]);
    // One commit for the first request; the twelve that came while it was under way joined the next one
    // in groups of at least 16 events (what was still fewer when it ended goes in the one after).
    expect(appends[0]).toBe(1);
    expect(appends[1]).toBeGreaterThanOrEqual(16);
    expect(appends.slice(1).reduce((n, x) => n + x, 0)).toBe(24);
    expect(appends.length).toBeLessThanOrEqual(3);
  });

  it('sends the next cycle to a store that applies appends in order at once, and gathers the rest meanwhile', async () => {
    const { whileHeld, appends } = await heldWhileTwelveArrive(true);
    // The first request's commit, and the next request already waiting at the store behind it; the other
    // eleven gathered into the cycle after, in groups of at least 16 events, as above.
    expect(whileHeld).toEqual([1, 2]);
    expect(appends[2]).toBeGreaterThanOrEqual(16);
    expect(appends.slice(1).reduce((n, x) => n + x, 0)).toBe(24);
    expect(appends.length).toBeLessThanOrEqual(4);
  });

  it('answers the cycle waiting at the store behind a commit that fails once it is prepared again, and the rest as usual', async () => {
    const { s, writer, appends, close, open } = await gatedWriter({ fail: 1 });
    close();
    const lost = writer.record('acme', events(anEvent()));
    while (appends.length === 0) await turn();
    // Planned on the first (its position, its hash): waits at the store behind it.
    const queued = anEvent();
    const next = writer.record('acme', events(queued, anEvent()));
    while (appends.length === 1) await turn();
    const later = Array.from({ length: 8 }, (_, i) => writer.record(i % 2 ? 'globex' : 'acme', events(anEvent(), anEvent())));
    // A repeat of an event waiting at the store: answered once that event's fate is known.
    const repeat = writer.record('acme', events(queued));
    for (let i = 0; i < 10; i++) await turn();
    expect(appends).toEqual([1, 2]);
    open();
    const [a, b, again, ...rest] = await Promise.all([lost, next, repeat, ...later]);
    expect(a._tag === 'Left' && a.left._tag).toBe('StoreUnavailable');
    // Sent back by the store (the entry it chained to was never written), prepared again, recorded.
    expect(b._tag === 'Right' && b.right.map((r) => [r.status, r.position])).toEqual([['recorded', 1], ['recorded', 2]]);
    expect(again._tag === 'Right' && again.right[0]).toMatchObject({ status: 'duplicate', position: 1, hash: b._tag === 'Right' ? b.right[0]!.hash : '' });
    expect(rest.every((r) => r._tag === 'Right')).toBe(true);
    expect(await expectChained(s, 'acme')).toBe(1 + 2 + 8);
    expect(await expectChained(s, 'globex')).toBe(1 + 8);
    // Every answer names the position and hash its event has in the log.
    const log = new Map((await s.eventStore.readStream('ledger-acme', 0, 100)).map((e) => [e.eventId, { position: e.revision, hash: leaf(e.data) }]));
    for (const r of [b, ...rest.filter((_, i) => i % 2 === 0)]) if (r._tag === 'Right') for (const x of r.right) expect({ position: x.position, hash: x.hash }).toEqual(log.get(x.eventId));
    await writer.drain();
    await s.close();
  });

  it('hands appends to the store in the order their cycles were sent, whichever made new keys and waited for them', async () => {
    const { s, writer, outcomes, holdKeys, releaseKeys, keysWaiting } = await gatedWriter();
    const known = { subject: { id: 'visitor:known', identifiers: { ip: '203.0.113.9' } } };
    expect((await writer.record('acme', events(anEvent(known))))._tag).toBe('Right');
    outcomes.length = 0;
    // The first cycle makes a new subject's key and waits for the key store; the next, a known subject's, has none to make.
    holdKeys();
    const first = writer.record('acme', events(anEvent()));
    while (!keysWaiting()) await turn();
    const next = writer.record('acme', events(anEvent(known)));
    for (let i = 0; i < 10; i++) await turn();
    releaseKeys();
    const [a, b] = await Promise.all([first, next]);
    // Applied in order, each on the log as the one before left it: nothing sent back, nothing prepared twice.
    expect(outcomes).toEqual(['Appended', 'Appended']);
    expect(a._tag === 'Right' && b._tag === 'Right' && [a.right[0]!.position, b.right[0]!.position]).toEqual([2, 3]);
    expect(await expectChained(s, 'acme')).toBe(4);
    await writer.drain();
    await s.close();
  });

  it('prepares again, rather than refusing, requests gathered while the commit before them failed', async () => {
    const { s, writer, appends, close, open, holdLookups, releaseLookups, lookupWaiting } = await gatedWriter({ ordered: false, fail: 1 });
    close();
    const lost = writer.record('acme', events(anEvent()));
    while (appends.length === 0) await turn();
    // The next cycle, planned on the first; then a group gathered into it, paused in its first tenant's look-up.
    const next = writer.record('acme', events(anEvent()));
    for (let i = 0; i < 5; i++) await turn();
    holdLookups('ledger-globex');
    const gathered = [writer.record('globex', events(...Array.from({ length: 8 }, () => anEvent()))), writer.record('acme', events(...Array.from({ length: 8 }, () => anEvent())))];
    while (!lookupWaiting()) await turn();
    // The first commit fails; only then does the group go on to plan acme's events.
    open();
    const [a] = await Promise.all([lost]);
    releaseLookups();
    const [b, ...rest] = await Promise.all([next, ...gathered]);
    expect(a._tag === 'Left' && a.left._tag).toBe('StoreUnavailable');
    expect([b, ...rest].map((r) => r._tag)).toEqual(['Right', 'Right', 'Right']);
    expect(await expectChained(s, 'acme')).toBe(1 + 1 + 8);
    expect(await expectChained(s, 'globex')).toBe(1 + 8);
    await writer.drain();
    await s.close();
  });

  it('answers a repeat of an event being committed once that commit is done, as a duplicate at its position', async () => {
    const { s, writer, appends, close, open } = await gatedWriter();
    close();
    const event = anEvent();
    const first = writer.record('acme', events(event));
    while (appends.length === 0) await turn();
    const other = writer.record('acme', events(anEvent()));
    await turn();
    const repeat = writer.record('acme', events(event));
    const changed = writer.record('acme', events({ ...event, purpose: 'marketing' }));
    for (let i = 0; i < 5; i++) await turn();
    open();
    const [a, b, c, d] = await Promise.all([first, other, repeat, changed]);
    expect(a._tag === 'Right' && a.right[0]!.status).toBe('recorded');
    expect(b._tag === 'Right' && b.right[0]!.status).toBe('recorded');
    expect(c._tag === 'Right' && c.right[0]).toMatchObject({ status: 'duplicate', position: a._tag === 'Right' ? a.right[0]!.position : -1 });
    expect(d._tag === 'Left' && d.left._tag).toBe('ConflictingDuplicate');
    expect((await s.eventStore.readStream('ledger-acme', 0, 100)).map((e) => e.revision)).toEqual([0, 1, 2]);
    await writer.drain();
    await s.close();
  });

  it('plans the requests waiting together as one: an event two of them bring is recorded once, each new identifier sealed for its own event', async () => {
    const { s, writer, appends, close, open } = await gatedWriter();
    close();
    const first = writer.record('acme', events(anEvent()));
    while (appends.length === 0) await turn();
    const ip = (i: number) => ({ subject: { id: `visitor:${i}`, identifiers: { ip: `203.0.113.${i}`, email: `v${i}@example.org` } } });
    const [e1, e2, e3, e4] = [1, 2, 3, 4].map((i) => anEvent(ip(i)));
    const x = writer.record('acme', events(e1!, e2!));
    const y = writer.record('acme', events(anEvent({ subject: { id: 'visitor:none' } }), e1!, e3!));
    const z = writer.record('acme', events(e4!, { ...e2!, purpose: 'marketing' }));
    const w = writer.record('acme', events(e3!));
    for (let i = 0; i < 5; i++) await turn();
    open();
    const [, rx, ry, rz, rw] = await Promise.all([first, x, y, z, w]);
    expect(appends).toEqual([1, 4]);
    if (rx._tag !== 'Right' || ry._tag !== 'Right' || rw._tag !== 'Right') throw new Error('refused');
    expect(rx.right.map((r) => [r.status, r.position])).toEqual([['recorded', 2], ['recorded', 3]]);
    expect(ry.right.map((r) => [r.status, r.position])).toEqual([['recorded', 4], ['duplicate', 2], ['recorded', 5]]);
    expect(ry.right[1]!.hash).toBe(rx.right[0]!.hash);
    expect(rz._tag === 'Left' && rz.left).toEqual({ _tag: 'ConflictingDuplicate', eventIds: [e2!.eventId] });
    expect(rw.right[0]).toMatchObject({ status: 'duplicate', position: 5, hash: ry.right[2]!.hash });
    const log = (await s.eventStore.readStream('ledger-acme', 0, 100)).slice(2).map((e) => JSON.parse(e.data.toString('utf8')));
    expect(log.map((e) => e.eventId)).toEqual([e1!.eventId, e2!.eventId, log[2].eventId, e3!.eventId]);
    const vault = new IdentifierVault(s.keyStore);
    for (const [entry, sent] of [[log[0], e1], [log[1], e2], [log[3], e3]] as const) {
      const opened = await vault.openAll('acme', entry.subject.id, entry.eventId, entry.subject.identifiers);
      expect(opened).toEqual(sent!.subject.identifiers);
    }
    expect(log[2].subject.identifiers).toBeUndefined();
    await writer.drain();
    await s.close();
  });

  it('commits the waiting group after a failed commit only once it is prepared again', async () => {
    const { s, writer, appends, close, open } = await gatedWriter();
    // Another process appends to acme's log behind this writer's back while its first commit waits.
    close();
    const first = writer.record('acme', events(anEvent()));
    while (appends.length === 0) await turn();
    const later = [writer.record('acme', events(anEvent())), writer.record('acme', events(anEvent()))];
    await turn();
    await turn();
    const rival = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
    expect((await rival.record('acme', events(anEvent())))._tag).toBe('Right');
    open();
    const results = await Promise.all([first, ...later]);
    expect(results.every((r) => r._tag === 'Right')).toBe(true);
    expect(await expectChained(s, 'acme')).toBe(5);
    await rival.drain();
    await writer.drain();
    await s.close();
  });
});

describe('the entries a writer builds', () => {
  it('have their keys in canonical order, so that their canonical bytes are the engine\'s JSON of them', async () => {
    const s = openEmbeddedStorage(tempDir(), master, { writes: 'in-thread' });
    const appended: NewEvent[] = [];
    const watched: EventStore = new Proxy(s.eventStore, {
      get: (target, p, r) => (p === 'append'
        ? async (...a: Parameters<EventStore['append']>) => { appended.push(...a[0].flatMap((x) => x.events)); return target.append(...a); }
        : Reflect.get(target, p, r)),
    });
    const writer = new LedgerWriter(watched, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
    await declareTenant(writer, 'acme');
    appended.length = 0;
    const r = await writer.record('acme', events(
      anEvent({ subject: { id: 'visitor:b', identifiers: { ip: '203.0.113.9', email: 'b@example.com' } } }),
      anEvent({ type: 'transferred', details: { recipient: 'mailer', mechanism: 'scc', country: 'US' } }),
      anEvent({ type: 'activity', details: undefined, actor: undefined }),
    ));
    expect(r._tag).toBe('Right');
    expect(appended).toHaveLength(3);
    for (const e of appended) {
      expect(inCanonicalOrder(e.context)).toBe(true);
      expect(Buffer.from(e.data).toString('utf8')).toBe(JSON.stringify(e.context));
      expect(Buffer.from(e.data).toString('utf8')).toBe(canonicalize(e.context));
    }
    // Each linked to the entry before it (the tenant's declaration first).
    expect(appended.every((e) => typeof (e.context as { prev?: unknown }).prev === 'string')).toBe(true);
    await writer.drain();
    await s.close();
  });
});

describe('two ledger processes on one PostgreSQL log', () => {
  it('place each other\'s groups one after the other without sending them back, in one chained, gap-free log whose answers say where each event is', async () => {
    const db = await freshDatabase();
    const [one, two] = [await openPostgresStorage(db.url, master, { writes: 'in-thread' }), await openPostgresStorage(db.url, master, { writes: 'in-thread' })];
    try {
      const outcomes: string[] = [];
      let gate: Promise<void> = Promise.resolve();
      const writerOn = (s: LedgerStorage, gated: boolean) => {
        const watched: EventStore = new Proxy(s.eventStore, {
          get: (target, p, r) => (p === 'append'
            ? async (...a: Parameters<EventStore['append']>) => {
              if (gated) await gate;
              const o = await target.append(...a);
              outcomes.push(...o.map((x) => (x._tag === 'Appended' && x.relinked ? 'relinked' : x._tag)));
              return o;
            }
            : Reflect.get(target, p, r)),
        });
        return new LedgerWriter(watched, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
      };
      const [a, b] = [writerOn(one, true), writerOn(two, false)];
      await declareTenant(a);
      expect((await a.record('acme', events(anEvent())))._tag).toBe('Right');
      // a prepares on the log as it stands, and is held before appending while b appends.
      let open = () => undefined as void;
      gate = new Promise((r) => { open = () => r(); });
      const overtaken = a.record('acme', events(anEvent(), anEvent()));
      expect((await b.record('acme', events(anEvent(), anEvent(), anEvent())))._tag).toBe('Right');
      open();
      const placed = await overtaken;
      expect(placed._tag === 'Right' && placed.right.map((r) => r.position)).toEqual([5, 6]);
      expect(outcomes.slice(-2)).toEqual(['Appended', 'relinked']);
      // Then both at once, many requests each.
      const burst = (w: LedgerWriter) => Promise.all(Array.from({ length: 40 }, () => w.record('acme', events(anEvent(), anEvent(), anEvent()))));
      const results = [placed, ...(await Promise.all([burst(a), burst(b)])).flat()];
      expect(results.every((r) => r._tag === 'Right')).toBe(true);
      const log = await one.eventStore.readStream('ledger-acme', 0, 1000);
      expect(log.map((e) => e.revision)).toEqual(Array.from({ length: 1 + 1 + 5 + 240 }, (_, i) => i));
      const entries = log.map((e) => JSON.parse(e.data.toString('utf8')));
      expect(entries.slice(1).every((e, i) => e.prev === leaf(log[i]!.data) && e.position === i + 1)).toBe(true);
      // Every answer names the position and hash the event has in the log.
      const at = new Map(log.map((e) => [e.eventId, { position: e.revision, hash: leaf(e.data) }]));
      for (const r of results) if (r._tag === 'Right') for (const x of r.right) expect({ position: x.position, hash: x.hash }).toEqual(at.get(x.eventId));
      // Overtaken groups were placed after the other's, never refused and prepared again.
      expect(outcomes).not.toContain('WrongExpectedRevision');
      await Promise.all([a.drain(), b.drain()]);
    } finally {
      await Promise.all([one.close(), two.close()]);
      await db.drop();
    }
  }, 60_000);
});
