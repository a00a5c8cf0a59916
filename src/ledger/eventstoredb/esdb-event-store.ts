import {
  BACKWARDS, binaryEvent, END, EventStoreDBClient, FORWARDS, NO_STREAM, START, streamNameFilter, StreamNotFoundError, WrongExpectedVersionError,
  type ResolvedEvent,
} from '@eventstore/db-client';
import type pg from 'pg';
import { migrate, type Migration } from '../../common/postgres/migrations.js';
import { lookUpEach } from '../../common/postgres/rows.js';
import type { AppendOutcome, EventStore, RecordedEvent, StreamAppend } from '../event-store.port.js';
import { appendObstacle } from '../append-decision.js';

/**
 * The idempotency index beside EventStoreDB (which recognises a repeated append only at the same expected
 * revision): which event id sits at which revision of a stream, in PostgreSQL, and up to which revision
 * each stream is indexed without a gap; what follows is read from the stream itself. And the position
 * of `$all` up to which the logs were folded into PostgreSQL (`esdb_checkpoint`).
 */
const MIGRATIONS: readonly Migration[] = [{
  version: 1,
  sql: `
create table esdb_event_ids (stream text not null, event_id text not null, revision bigint not null, primary key (stream, event_id));
create table esdb_indexed (stream text primary key, through bigint not null);
create table esdb_checkpoint (id integer primary key check (id = 1), commit bigint not null, prepare bigint not null);`,
}];
const MIGRATION_LOCK = 0x70646c06;
/** Attempts of an append whose stream moved between reading its head and appending at it (expected revision `any`). */
const ANY_ATTEMPTS = 10;
const PAGE = 500;

export const toRecorded = (e: NonNullable<ResolvedEvent['event']>): RecordedEvent => ({
  stream: e.streamId, revision: Number(e.revision), globalPosition: e.position?.commit ?? -1n, eventId: e.id, type: e.type,
  data: Buffer.from(e.data as Uint8Array),
});

/**
 * The event store on EventStoreDB (a cluster: the connection string names its nodes; the client
 * discovers the leader and reconnects). One stream per tenant log; every append carries the stream's
 * expected revision, so two writers can never fork a log; events are stored as the ledger's canonical
 * bytes (binary events, ids = the entries' event ids). Appends to several streams are several appends
 * (EventStoreDB commits one stream at a time): each succeeds or fails on its own, as the port allows.
 */
export class EsdbEventStore implements EventStore {
  private constructor(private readonly client: EventStoreDBClient, private readonly pool: pg.Pool) {}

  /** `url`: an `esdb://` (or `kurrentdb://`) connection string; `pool`: PostgreSQL for the id index (its schema migrated here). */
  static async open(url: string, pool: pg.Pool, schema: string): Promise<EsdbEventStore> {
    await migrate(pool, schema, 'esdb-ids', MIGRATION_LOCK, MIGRATIONS);
    return new EsdbEventStore(EventStoreDBClient.connectionString(url), pool);
  }

  async append(appends: readonly StreamAppend[]): Promise<AppendOutcome[]> {
    const out: AppendOutcome[] = [];
    for (const a of appends) out.push(await this.appendOne(a));
    return out;
  }

  private async appendOne(a: StreamAppend): Promise<AppendOutcome> {
    const ids = a.events.map((e) => e.eventId);
    for (let attempt = 1; ; attempt++) {
      const actual = await this.streamRevision(a.stream);
      const obstacle = appendObstacle(a, actual, await this.revisionsOf(a.stream, ids, actual));
      if (obstacle) return obstacle;
      try {
        // Always at the revision just checked (also for `any`): no event id can slip in between.
        await this.client.appendToStream(a.stream, a.events.map((e) => binaryEvent({ id: e.eventId, type: e.type, data: Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength) })),
          { expectedRevision: actual === null ? NO_STREAM : BigInt(actual) });
      } catch (e) {
        if (!(e instanceof WrongExpectedVersionError)) throw e;
        if (a.expectedRevision !== 'any') return { _tag: 'WrongExpectedRevision', stream: a.stream, expected: a.expectedRevision, actual: await this.streamRevision(a.stream) };
        if (attempt >= ANY_ATTEMPTS) throw new Error(`the stream ${a.stream} kept moving under concurrent writers`);
        continue;
      }
      const first = (actual ?? -1) + 1;
      await this.index(a.stream, ids, first);
      return { _tag: 'Appended', stream: a.stream, firstRevision: first, lastRevision: first + ids.length - 1, idempotent: false };
    }
  }

  /** Notes the ids at revisions `first`…; moves the stream's gap-free mark when they follow it. */
  private async index(stream: string, ids: readonly string[], first: number): Promise<void> {
    await this.pool.query(`insert into esdb_event_ids (stream, event_id, revision) select $1, id, $3::bigint + n - 1 from unnest($2::text[]) with ordinality as x(id, n)
      on conflict do nothing`, [stream, ids, first]);
    await this.pool.query(`insert into esdb_indexed (stream, through) values ($1, $2) on conflict (stream) do update set through = excluded.through
      where esdb_indexed.through = $3`, [stream, first + ids.length - 1, first - 1]);
  }

  /** Where `ids` sit in the stream: from the index up to its gap-free mark, then from the stream itself. */
  private async revisionsOf(stream: string, ids: readonly string[], head: number | null): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    if (head === null || ids.length === 0) return found;
    const through = (await this.pool.query<{ through: number }>('select through from esdb_indexed where stream = $1', [stream])).rows[0]?.through ?? -1;
    const { rows } = await this.pool.query<{ event_id: string; revision: number }>(`select i.event_id, i.revision from ${lookUpEach({ k: '$2::text[]' }, 'i', 'select * from esdb_event_ids where stream = $1 and event_id = k and revision <= $3 limit 1')}`, [stream, ids, through]);
    for (const r of rows) found.set(r.event_id, r.revision);
    const wanted = new Set(ids);
    for (let from = through + 1; from <= head;) {
      const page = await this.readStream(stream, from, PAGE);
      for (const e of page) if (wanted.has(e.eventId)) found.set(e.eventId, e.revision);
      if (page.length === 0) break;
      from = page[page.length - 1]!.revision + 1;
    }
    return found;
  }

  async streamRevision(stream: string): Promise<number | null> {
    try {
      for await (const r of this.client.readStream(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) if (r.event) return Number(r.event.revision);
      return null;
    } catch (e) {
      if (e instanceof StreamNotFoundError) return null;
      throw e;
    }
  }

  async readStream(stream: string, fromRevision: number, maxCount: number): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    try {
      for await (const r of this.client.readStream(stream, { direction: FORWARDS, fromRevision: BigInt(fromRevision), maxCount })) if (r.event) out.push(toRecorded(r.event));
    } catch (e) {
      if (!(e instanceof StreamNotFoundError)) throw e;
    }
    return out;
  }

  /** Every stream's events from a position of `$all` (its commit position), system events left out. */
  async readAll(fromGlobalPosition: bigint, maxCount: number): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    let from: typeof START | { commit: bigint; prepare: bigint } = fromGlobalPosition <= 0n ? START : { commit: fromGlobalPosition, prepare: fromGlobalPosition };
    // Pages start at the last event of the page before (a position read is included again): it is skipped.
    let seen: { commit: bigint; prepare: bigint } | null = null;
    for (;;) {
      let read = 0;
      let last: { commit: bigint; prepare: bigint } | undefined;
      for await (const r of this.client.readAll({ direction: FORWARDS, fromPosition: from, maxCount: PAGE })) {
        read++;
        const e = r.event;
        if (!e?.position) continue;
        last = e.position;
        if (seen && e.position.commit === seen.commit && e.position.prepare === seen.prepare) continue;
        if (e.type.startsWith('$') || e.streamId.startsWith('$') || e.position.commit < fromGlobalPosition) continue;
        out.push(toRecorded(e));
        if (out.length === maxCount) return out;
      }
      if (read < PAGE || !last || (seen && last.commit === seen.commit && last.prepare === seen.prepare)) return out;
      from = last;
      seen = last;
    }
  }

  async findByEventIds(stream: string, eventIds: readonly string[]): Promise<RecordedEvent[]> {
    const found = await this.revisionsOf(stream, eventIds, await this.streamRevision(stream));
    const out: RecordedEvent[] = [];
    for (const revision of [...new Set(found.values())].sort((a, b) => a - b)) out.push(...(await this.readStream(stream, revision, 1)));
    return out;
  }

  /** A catch-up subscription to the tenant logs in `$all` (filtered by the server), from after `from` (null: the start). */
  subscribe(from: { commit: bigint; prepare: bigint } | null, streamPrefix: string) {
    return this.client.subscribeToAll({ fromPosition: from ?? START, filter: streamNameFilter({ prefixes: [streamPrefix] }) });
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }
}
