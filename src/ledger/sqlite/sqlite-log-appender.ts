import type { Db } from '../../common/sqlite/open-database.js';
import type { AppendOutcome, InlineProjection, RecordedEvent, StreamAppend } from '../event-store.port.js';

const SCHEMA = `
create table if not exists events (
  global_position integer primary key,
  stream text not null,
  revision integer not null,
  event_id text not null,
  type text not null,
  data blob not null,
  unique (stream, revision),
  unique (stream, event_id));
`;

export const ensureLogSchema = (db: Db): void => void db.exec(SCHEMA);

export interface LogRow { global_position: number | bigint; stream: string; revision: number; event_id: string; type: string; data: Buffer }

/**
 * The write side of the embedded event store: one transaction per call, every stream append guarded by
 * its expected revision inside a savepoint, inline projections folded in the same transaction. It runs
 * on whichever thread owns the write connection (the storage worker in the server).
 */
export class SqliteLogAppender {
  private readonly stmt;
  private readonly tx: (appends: readonly StreamAppend[]) => AppendOutcome[];

  constructor(db: Db, private readonly projections: ReadonlyArray<InlineProjection<Db>> = []) {
    ensureLogSchema(db);
    this.stmt = {
      revision: db.prepare('select max(revision) as r from events where stream = ?'),
      insert: db.prepare('insert into events (stream, revision, event_id, type, data) values (?, ?, ?, ?, ?)'),
      byIds: db.prepare('select event_id, revision from events where stream = ? and event_id in (select value from json_each(?))'),
    };
    this.tx = db.transaction((appends: readonly StreamAppend[]) => {
      const outcomes: AppendOutcome[] = [];
      const applied: Array<{ recorded: RecordedEvent; context: unknown }> = [];
      for (const a of appends) {
        const save = `s${outcomes.length}`;
        db.exec(`savepoint ${save}`);
        const mark = applied.length;
        const outcome = this.appendOne(a, applied);
        if (outcome._tag === 'Appended') db.exec(`release ${save}`);
        else {
          db.exec(`rollback to ${save}; release ${save}`);
          applied.length = mark;
        }
        outcomes.push(outcome);
      }
      for (const p of this.projections) p.apply(db, applied);
      return outcomes;
    });
  }

  append(appends: readonly StreamAppend[]): AppendOutcome[] {
    return this.tx(appends);
  }

  private appendOne(a: StreamAppend, applied: Array<{ recorded: RecordedEvent; context: unknown }>): AppendOutcome {
    const actual = (this.stmt.revision.get(a.stream) as { r: number | null }).r;
    const found = new Map((this.stmt.byIds.all(a.stream, JSON.stringify(a.events.map((e) => e.eventId))) as Array<{ event_id: string; revision: number }>).map((r) => [r.event_id, r.revision] as const));
    const existing = a.events.map((e) => found.get(e.eventId));
    const start = a.expectedRevision === 'any' ? (actual ?? -1) : a.expectedRevision === 'no_stream' ? -1 : a.expectedRevision;
    if (a.events.length > 0 && existing.every((r, i) => r !== undefined && r === start + 1 + i)) {
      return { _tag: 'Appended', stream: a.stream, firstRevision: start + 1, lastRevision: start + a.events.length, idempotent: true };
    }
    if (a.expectedRevision !== 'any' && (actual ?? -1) !== start) {
      return { _tag: 'WrongExpectedRevision', stream: a.stream, expected: a.expectedRevision, actual };
    }
    const dups = a.events.filter((_, i) => existing[i] !== undefined).map((e) => e.eventId);
    if (dups.length) return { _tag: 'DuplicateEventIds', stream: a.stream, eventIds: dups };
    let revision = actual ?? -1;
    for (const e of a.events) {
      revision++;
      const data = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
      const info = this.stmt.insert.run(a.stream, revision, e.eventId, e.type, data);
      applied.push({
        recorded: { stream: a.stream, revision, globalPosition: BigInt(info.lastInsertRowid), eventId: e.eventId, type: e.type, data },
        context: e.context,
      });
    }
    return { _tag: 'Appended', stream: a.stream, firstRevision: (actual ?? -1) + 1, lastRevision: revision, idempotent: false };
  }
}
