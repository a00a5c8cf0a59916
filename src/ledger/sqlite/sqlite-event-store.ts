import type { Db } from '../../common/sqlite/open-database.js';
import type { AppendOutcome, EventStore, InlineProjection, RecordedEvent, StreamAppend } from '../event-store.port.js';
import { ensureLogSchema, SqliteLogAppender, type LogRow } from './sqlite-log-appender.js';

const toRecorded = (r: LogRow): RecordedEvent => ({
  stream: r.stream, revision: r.revision, globalPosition: BigInt(r.global_position), eventId: r.event_id, type: r.type, data: r.data,
});

/** Commits appends durably: in this thread, or on the storage worker that owns the write connection. */
export type LogWrites = (appends: readonly StreamAppend[]) => Promise<AppendOutcome[]>;

/**
 * The embedded event store: one SQLite file, WAL, `synchronous = FULL`. Reads use `db`; appends go
 * through `writes`, so that the server can commit (and fsync) on another thread while it prepares
 * the next group of events.
 */
export class SqliteEventStore implements EventStore {
  private readonly stmt;

  /** An event store that appends on the calling thread, through its own connection. */
  static inThread(db: Db, projections: ReadonlyArray<InlineProjection<Db>> = []): SqliteEventStore {
    const appender = new SqliteLogAppender(db, projections);
    return new SqliteEventStore(db, async (appends) => appender.append(appends));
  }

  constructor(private readonly db: Db, private readonly writes: LogWrites) {
    ensureLogSchema(db);
    this.stmt = {
      revision: db.prepare('select max(revision) as r from events where stream = ?'),
      byIds: db.prepare('select * from events where stream = ? and event_id in (select value from json_each(?))'),
      readStream: db.prepare('select * from events where stream = ? and revision >= ? order by revision limit ?'),
      readAll: db.prepare('select * from events where global_position >= ? order by global_position limit ?'),
    };
  }

  append(appends: readonly StreamAppend[]): Promise<AppendOutcome[]> {
    return this.writes(appends);
  }

  async streamRevision(stream: string): Promise<number | null> {
    return (this.stmt.revision.get(stream) as { r: number | null }).r;
  }

  async readStream(stream: string, fromRevision: number, maxCount: number): Promise<RecordedEvent[]> {
    return (this.stmt.readStream.all(stream, fromRevision, maxCount) as LogRow[]).map(toRecorded);
  }

  async readAll(fromGlobalPosition: bigint, maxCount: number): Promise<RecordedEvent[]> {
    return (this.stmt.readAll.all(fromGlobalPosition, maxCount) as LogRow[]).map(toRecorded);
  }

  async findByEventIds(stream: string, eventIds: readonly string[]): Promise<RecordedEvent[]> {
    return (this.stmt.byIds.all(stream, JSON.stringify(eventIds)) as LogRow[]).map(toRecorded);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
