import { randomUUID } from 'node:crypto';
import { PgEventStore } from '../../src/ledger/postgres/pg-event-store.js';
import type { EventStore } from '../../src/ledger/event-store.port.js';
import { eventStoreContract } from './event-store.contract.js';
import { leafHash } from '../../src/ledger/domain/canonical.js';
import { link } from '../../src/ledger/domain/chain.js';
import { IDLE_IN_TRANSACTION_MS, schemaPool } from '../../src/common/postgres/migrations.js';
import { relay } from '../support/relay.js';
import fc from 'fast-check';
import pg from 'pg';
import { arrayLiteral, insertStatement, Writes } from '../../src/common/postgres/rows.js';
import type { PgProjection } from '../../src/ledger/postgres/pg-projection.js';

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

  it('rolls a failed append back whole and leaves its connection ready for the next (projections failing, ids reused)', async () => {
    const schema = `pdl_test_${randomUUID().slice(0, 8)}`;
    const pool = schemaPool(URL, schema, 1);
    let fail = true;
    const seen: number[] = [];
    const failing: PgProjection = {
      name: 'failing', tables: [],
      async apply(_tx, events, writes) {
        // Gathered for the statement sent after every projection ran: dropped with the failed transaction.
        writes.add({ sql: 'insert into events_seen (position) select unnest($1::bigint[])', params: [events.map((e) => Number(e.recorded.globalPosition))] });
        if (fail) throw new Error('projection failed');
      },
    };
    try {
      const store = await PgEventStore.on(pool, schema, [failing]);
      await pool.query('create table events_seen (position bigint primary key)');
      const ev = () => ({ eventId: randomUUID(), type: 't', data: Buffer.from('{}') });
      await expect(store.append([{ stream: 's', expectedRevision: 'no_stream', events: [ev(), ev()] }])).rejects.toThrow('projection failed');
      fail = false;
      // One connection only: it must be out of the failed transaction for this to run at all.
      const kept = ev();
      const [o] = await store.append([{ stream: 's', expectedRevision: 'no_stream', events: [kept, ev()] }]);
      expect(o).toMatchObject({ _tag: 'Appended', firstRevision: 0, lastRevision: 1 });
      // An id already in the stream: the insert fails inside the transaction, which goes on to say why.
      const [again] = await store.append([{ stream: 's', expectedRevision: 1, events: [ev(), kept] }]);
      expect(again?._tag).not.toBe('Appended');
      const [next] = await store.append([{ stream: 's', expectedRevision: 1, events: [ev()] }]);
      expect(next).toMatchObject({ _tag: 'Appended', firstRevision: 2, lastRevision: 2 });
      for (const r of (await pool.query<{ position: number }>('select position from events_seen order by position')).rows) seen.push(r.position);
      expect(seen).toEqual([0, 1, 2]);
      expect((await store.readAll(0n, 10)).map((r) => [r.revision, Number(r.globalPosition)])).toEqual([[0, 0], [1, 1], [2, 2]]);
    } finally {
      await pool.query(`drop schema if exists ${schema} cascade`);
      await pool.end();
    }
  });
});

describe('the PostgreSQL sessions of a ledger', () => {
  const settings = async (url: string, schema: string) => {
    const pool = schemaPool(url, schema, 1);
    try {
      return (await pool.query<Record<string, string>>(`select current_setting('search_path') as path, current_setting('statement_timeout') as statement,
        current_setting('idle_in_transaction_session_timeout') as idle, current_setting('application_name') as app`)).rows[0];
    } finally {
      await pool.end();
    }
  };

  /**
   * `work` given a store whose connections go through a relay that can freeze them (its sessions ended by
   * the server after 1 s idle inside a transaction), and another store on the same schema, directly.
   */
  const withFrozenWriter = async (work: (s: { frozen: PgEventStore; other: PgEventStore; through: Awaited<ReturnType<typeof relay>>; schema: string }) => Promise<void>) => {
    const schema = `pdl_test_${randomUUID().slice(0, 8)}`;
    const through = await relay(new globalThis.URL(URL));
    const url = new globalThis.URL(URL);
    url.port = String(through.port);
    url.searchParams.set('options', '-c idle_in_transaction_session_timeout=1s');
    const frozen = await PgEventStore.open(url.toString(), schema);
    const other = await PgEventStore.open(URL, schema);
    try {
      await work({ frozen, other, through, schema });
    } finally {
      await through.close();
      await other.dropSchema();
      await Promise.all([frozen.close().catch(() => undefined), other.close()]);
    }
  };
  const anAppend = () => [{ stream: 's', expectedRevision: 'no_stream' as const, events: [{ eventId: randomUUID(), type: 't', data: Buffer.from('{}') }] }];

  it("work in their schema with an idle-in-transaction time-out, keeping the URL's own server options", async () => {
    const idle = `${IDLE_IN_TRANSACTION_MS / 1000}s`;
    expect(await settings(URL, 'pdl_x')).toEqual({ path: 'pdl_x', statement: '0', idle, app: 'pdl' });
    const given = new globalThis.URL(URL);
    given.searchParams.set('options', '-c statement_timeout=12s');
    // The URL's options used to replace the pool's: the search path was lost, and tables went to `public`.
    expect(await settings(given.toString(), 'pdl_x')).toEqual({ path: 'pdl_x', statement: '12s', idle, app: 'pdl' });
    given.searchParams.set('options', '');
    expect(await settings(given.toString(), 'pdl_x')).toEqual({ path: 'pdl_x', statement: '0', idle, app: 'pdl' });
    given.searchParams.set('options', '-c idle_in_transaction_session_timeout=5min -c search_path=elsewhere');
    expect(await settings(given.toString(), 'pdl_x')).toEqual({ path: 'pdl_x', statement: '0', idle: '5min', app: 'pdl' });
  });

  it('of a writer that stops answering inside its transaction (paused, cut off) holds the append lock only until PostgreSQL ends it', async () => {
    await withFrozenWriter(async ({ frozen, other, through }) => {
      let inside!: () => void;
      const holding = new Promise<void>((r) => { inside = r; });
      // The append lock taken, then nothing more reaches the server: as a ledger process stopped mid-append.
      const stuck = frozen.exclusively(async (tx) => {
        through.freeze();
        inside();
        await tx.query('select 1');
      }).then(() => 'committed', (e: unknown) => (e as Error).message);
      await holding;
      // Without the time-out, this waited for the server's TCP keep-alive to give the frozen client up (hours).
      const [o] = await other.append(anAppend());
      expect(o).toMatchObject({ _tag: 'Appended', firstRevision: 0 });
      // The frozen client hears of it when the network lets it: its transaction was not committed.
      await through.close();
      expect(await stuck).not.toBe('committed');
    });
  }, 60_000);

  it("of a writer that stops answering while it holds the turn to append alone (a lease, between its transactions) is ended too", async () => {
    await withFrozenWriter(async ({ frozen, other, through, schema }) => {
      const lease = await frozen.lease();
      through.freeze();
      // Appends wait for a lease to be released; this one's holder will never release it.
      const [o] = await other.append(anAppend());
      expect(o).toMatchObject({ _tag: 'Appended', firstRevision: 0 });
      await through.close();
      await lease.release();
      // A lease given back leaves its connection as it was: not ended when idle in the pool afterwards.
      const pool = schemaPool(URL, schema, 1);
      try {
        const alone = await PgEventStore.on(pool, schema, []);
        await (await alone.lease()).release();
        expect((await pool.query("select current_setting('idle_session_timeout') as t")).rows[0].t).toBe('0');
      } finally {
        await pool.end();
      }
    });
  }, 60_000);
});

describe('writes sent together (Writes)', () => {
  it('sends every gathered statement as one, numbering their parameters apart, a named one read by a later one', async () => {
    const schema = `pdl_test_${randomUUID().slice(0, 8)}`;
    const pool = schemaPool(URL, schema, 1);
    try {
      await pool.query(`create schema ${schema}; create table a (k text primary key, b bytea); create table n (k text primary key, n bigint not null)`);
      const writes = new Writes();
      expect(writes.empty).toBe(true);
      writes.add(insertStatement('a', [['k', 'text'], ['b', 'bytea']], [['x', Buffer.from([1, 2])], ['y', null], ['z', Buffer.from([3])]], 'returning k'), 'added');
      writes.add(null);
      writes.add({ sql: 'insert into n (k, n) select $1, count(*) from added', params: ['count'] });
      writes.add(insertStatement('n', [['k', 'text'], ['n', 'bigint']], [['two', 2]]));
      expect(writes.empty).toBe(false);
      const queries: string[] = [];
      const client = await pool.connect();
      const query = client.query.bind(client);
      client.query = ((sql: string, ...rest: unknown[]) => { queries.push(sql); return (query as (...a: unknown[]) => unknown)(sql, ...rest); }) as typeof client.query;
      try {
        await writes.run(client);
        await writes.run(client);
      } finally {
        client.release();
      }
      // One statement, once: what ran is forgotten.
      expect(queries).toHaveLength(1);
      expect(writes.empty).toBe(true);
      expect((await pool.query('select k, b from a order by k')).rows).toEqual([{ k: 'x', b: Buffer.from([1, 2]) }, { k: 'y', b: null }, { k: 'z', b: Buffer.from([3]) }]);
      expect((await pool.query('select k, n from n order by k')).rows).toEqual([{ k: 'count', n: 3 }, { k: 'two', n: 2 }]);
    } finally {
      await pool.query(`drop schema if exists ${schema} cascade`);
      await pool.end();
    }
  });
});

describe('parameters of bulk inserts: arrays (arrayLiteral) and JSON documents', () => {
  it('reads back in PostgreSQL as the values they were written from: any text, numbers, nulls, booleans', async () => {
    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    try {
      const tricky = ['', 'NULL', 'null', ' a b ', 'a,b', '{x}', '"', '\\', '\\"', 'x"y\\z', '\u0001\n\t', 'é€𝄞', '\\N'];
      expect((await client.query('select $1::text[] as v', [arrayLiteral(tricky)])).rows[0].v).toEqual(tricky);
      const text = fc.array(fc.option(fc.string({ unit: 'binary' }).map((x) => x.replace(/\u0000/g, '')), { nil: null }), { maxLength: 30 });
      await fc.assert(fc.asyncProperty(text, async (values) => {
        expect((await client.query('select $1::text[] as v', [arrayLiteral(values)])).rows[0].v).toEqual(values);
      }), { numRuns: 200 });
      const numbers = [0, -1, 2 ** 40, null, 7n, Number.MAX_SAFE_INTEGER];
      expect((await client.query('select $1::bigint[]::text[] as v', [arrayLiteral(numbers)])).rows[0].v).toEqual(numbers.map((n) => (n === null ? null : String(n))));
      expect((await client.query('select $1::boolean[] as v', [arrayLiteral([true, false, null])])).rows[0].v).toEqual([true, false, null]);
      expect(arrayLiteral([])).toBe('{}');
      // JSON documents travel unescaped, as one JSON array: read back exactly as written (json), or as their value (jsonb).
      await client.query('create temporary table docs (k integer, doc text, b jsonb)');
      const docs = [JSON.stringify({ a: 'x"y\\z', n: [1, 2.5, null], u: 'é\u0001𝄞', nested: { q: '"' } }), '[]', '"just a string"', '  {"spaced" : true }  '];
      const rows = docs.map((d, k) => [k, d, d] as const);
      const insert = insertStatement('docs', [['k', 'integer'], ['doc', 'json'], ['b', 'jsonb']], [...rows, [9, null, null]])!;
      await client.query(insert.sql, insert.params as unknown[]);
      const back = (await client.query('select k, doc, b from docs order by k')).rows;
      expect(back.map((r) => r.doc)).toEqual([...docs.map((d) => d.trim()), null]);
      expect(back.map((r) => r.b)).toEqual([...docs.map((d) => JSON.parse(d)), null]);
      expect(() => insertStatement('docs', [['doc', 'json']], [[{ not: 'a text' }]])).toThrow(TypeError);
      expect(() => arrayLiteral([{}])).toThrow(TypeError);
    } finally {
      await client.end();
    }
  });
});
