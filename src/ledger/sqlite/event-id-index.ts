import type { Statement } from 'better-sqlite3';
import type { Db } from '../../common/sqlite/open-database.js';
import { SliceSizes, Slices, type Applied, type DeferredIndex } from './deferred-index.js';
import { MembershipFilter } from '../../common/kernel/membership-filter.js';

/** An event id's key in a filter of the ids of every stream. */
const idKey = (stream: string, eventId: string): string => `${stream}\u0000${eventId}`;

/**
 * A filter of every id the idempotency index holds or will hold (`MembershipFilter`): made from the
 * index a step at a time, on later turns of the event loop (a million ids take ~1.5 s, which a first
 * append must not wait for), each step sized like a deferred index's slice (`SliceSizes`, ~2 ms: steps of
 * 5,000 rows took ~10–13 ms on a slow machine, holding back whatever waited on the thread meanwhile, such
 * as a report's `accessed` entry right after a start), with the ids `unwritten` (taken, not written yet);
 * its owner adds every id it takes from then on. Looking an id up in the index is a B-tree descent, whose pages the commits of
 * the other connection to the file keep taking out of this one's cache; most ids looked up are new (a new
 * event's), and once made the filter answers those alone. Until then every id is looked up.
 */
export class KnownIds {
  private readonly filter = new MembershipFilter();
  private readonly step;
  private readonly sizes = new SliceSizes();
  private after = 0;
  private isReady = false;
  private stopped = false;

  constructor(db: Db, unwritten: Iterable<Map<string, Map<string, number>> | undefined>) {
    for (const byStream of unwritten) for (const [stream, ids] of byStream ?? []) for (const id of ids.keys()) this.add(stream, id);
    // In rowid order: rows the deferred writes add meanwhile come after those read (and were added here first).
    // Each row's key joined by SQLite (`idKey`: neither column holds U+0000), one string a row instead of two.
    this.step = db.prepare('select rowid, stream || char(0) || event_id from event_ids where rowid > ? order by rowid limit ?').raw(true);
    this.next();
  }

  add(stream: string, eventId: string): void {
    this.filter.add(idKey(stream, eventId));
  }

  /** Made: from now on it answers for every id the index holds or will hold. */
  get ready(): boolean {
    return this.isReady;
  }

  /** false: `eventId` is certainly not in `stream` (the filter is made and never saw it). */
  mightHave(stream: string, eventId: string): boolean {
    return !this.isReady || this.filter.mightHave(idKey(stream, eventId));
  }

  /** Stops making it (its connection is closing). */
  stop(): void {
    this.stopped = true;
  }

  private next(): void {
    setImmediate(() => {
      if (this.stopped) return;
      let more: boolean;
      try {
        more = this.sizes.write('known-ids', 0, (step) => {
          const rows = this.step.all(this.after, step) as Array<[number, string]>;
          for (const [rowid, key] of rows) {
            this.filter.add(key);
            this.after = rowid;
          }
          return rows.length === step;
        });
      } catch {
        return; // Its connection closed: never made, every id is looked up.
      }
      if (more) this.next();
      else this.isReady = true;
    }).unref();
  }
}

/**
 * The idempotency index: (stream, event id) → revision. A deferred index: its recent part is this
 * buffer until the next flush, which `find` consults first.
 */
export class EventIdIndex implements DeferredIndex {
  readonly name = 'event-ids';
  readonly schema = `create table if not exists event_ids (stream text not null, event_id text not null, revision integer not null, primary key (stream, event_id));`;
  private recent = new Map<string, Map<string, number>>();
  /** The group being written (see `DeferredIndex.freeze`): its ids, for `find`, and its rows in key order. */
  private group: { ids: Map<string, Map<string, number>>; rows: Slices<readonly [stream: string, id: string, revision: number]> } | null = null;
  private stmt: { insert: Statement<unknown[]> } | null = null;
  /** The lookup, prepared once per connection (it runs in every commit). */
  private readonly lookups = new WeakMap<Db, Statement<unknown[]>>();
  /** Every id it holds or will hold (`KnownIds`), made from the first look-up on; ids taken since are added as they come. */
  private known: KnownIds | null = null;

  /** Revisions of the given event ids of `stream`: recent ones, then those on disk. */
  find(db: Db, stream: string, eventIds: readonly string[]): Map<string, number> {
    const out = new Map<string, number>();
    const recent = this.recent.get(stream);
    const frozen = this.group?.ids.get(stream);
    const rest: string[] = [];
    const known = (this.known ??= new KnownIds(db, [this.recent, this.group?.ids]));
    for (const id of eventIds) {
      const r = recent?.get(id) ?? frozen?.get(id);
      if (r !== undefined) out.set(id, r);
      else if (known.mightHave(stream, id)) rest.push(id);
    }
    if (rest.length) {
      let lookup = this.lookups.get(db);
      if (!lookup) this.lookups.set(db, (lookup = db.prepare('select event_id, revision from event_ids where stream = ? and event_id in (select value from json_each(?))')));
      const rows = lookup.all(stream, JSON.stringify(rest)) as Array<{ event_id: string; revision: number }>;
      for (const r of rows) out.set(r.event_id, r.revision);
    }
    return out;
  }

  add(events: readonly Applied[]): void {
    for (const { recorded } of events) {
      let m = this.recent.get(recorded.stream);
      if (!m) this.recent.set(recorded.stream, (m = new Map()));
      m.set(recorded.eventId, recorded.revision);
      this.known?.add(recorded.stream, recorded.eventId);
    }
  }

  /**
   * In (stream, id) order, so that each page of the index is visited once per group (in commit order,
   * random ids visited random pages one by one).
   */
  freeze(): void {
    if (this.group) return;
    const rows: Array<readonly [string, string, number]> = [];
    for (const [stream, ids] of this.recent) for (const id of [...ids.keys()].sort()) rows.push([stream, id, ids.get(id)!]);
    rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.group = { ids: this.recent, rows: new Slices(rows) };
    this.recent = new Map();
  }

  /** Each stream's ids of a slice in one statement (a JSON object of id → revision). */
  write(db: Db, budget?: number): boolean {
    this.stmt ??= { insert: db.prepare('insert or ignore into event_ids (stream, event_id, revision) select ?, key, value from json_each(?)') };
    this.freeze();
    const rows = this.group!.rows;
    const slice = rows.next(budget);
    for (let i = 0; i < slice.length;) {
      const stream = slice[i]![0];
      const ids: Record<string, number> = Object.create(null);
      for (; i < slice.length && slice[i]![0] === stream; i++) ids[slice[i]![1]] = slice[i]![2];
      this.stmt.insert.run(stream, JSON.stringify(ids));
    }
    return rows.done;
  }

  committed(): void {
    this.group = null;
  }

  rewind(): void {
    this.group?.rows.rewind();
  }
}
