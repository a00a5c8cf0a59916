import type { Statement } from 'better-sqlite3';
import type { Db } from '../../common/sqlite/open-database.js';
import type { Applied, DeferredIndex } from './deferred-index.js';

/**
 * The idempotency index: (stream, event id) → revision. A deferred index: its recent part is this
 * buffer until the next flush, which `find` consults first.
 */
export class EventIdIndex implements DeferredIndex {
  readonly name = 'event-ids';
  readonly schema = `create table if not exists event_ids (stream text not null, event_id text not null, revision integer not null, primary key (stream, event_id));`;
  private recent = new Map<string, Map<string, number>>();
  private stmt: { insert: Statement<unknown[]> } | null = null;
  /** The lookup, prepared once per connection (it runs in every commit). */
  private readonly lookups = new WeakMap<Db, Statement<unknown[]>>();

  /** Revisions of the given event ids of `stream`: recent ones, then those on disk. */
  find(db: Db, stream: string, eventIds: readonly string[]): Map<string, number> {
    const out = new Map<string, number>();
    const recent = this.recent.get(stream);
    const rest: string[] = [];
    for (const id of eventIds) {
      const r = recent?.get(id);
      if (r !== undefined) out.set(id, r);
      else rest.push(id);
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
    }
  }

  /**
   * Each stream's ids of the group in one statement (a JSON object of id → revision), in id order, so
   * that each page of the index is visited once per group (a statement per id, in commit order, visited
   * the random pages of random ids one by one).
   */
  write(db: Db): void {
    this.stmt ??= { insert: db.prepare('insert or ignore into event_ids (stream, event_id, revision) select ?, key, value from json_each(?)') };
    for (const [stream, ids] of this.recent) {
      const sorted: Record<string, number> = Object.create(null);
      for (const id of [...ids.keys()].sort()) sorted[id] = ids.get(id)!;
      this.stmt.insert.run(stream, JSON.stringify(sorted));
    }
  }

  committed(): void {
    this.recent = new Map();
  }
}
