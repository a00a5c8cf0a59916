import { openDatabase, type Db } from '../../common/sqlite/open-database.js';
import type { AppendOutcome, EventStore, RecordedEvent, StreamAppend } from '../event-store.port.js';
import { ensureLogSchema, SqliteLogAppender, type AppendReceipt, type LogRow, type SqliteProjection } from './sqlite-log-appender.js';
import { EventIdIndex, KnownIds } from './event-id-index.js';

const toRecorded = (r: LogRow): RecordedEvent => ({
  stream: r.stream, revision: r.revision, globalPosition: BigInt(r.global_position), eventId: r.event_id, type: r.type, data: r.data,
});

/** Commits appends durably: in this thread, or on the storage worker that owns the write connection. */
export type LogWrites = (appends: readonly StreamAppend[]) => Promise<AppendReceipt>;

/**
 * The embedded event store: one SQLite file, WAL, `synchronous = FULL`. Reads use `db`; appends go
 * through `writes`, so that the server can commit (and fsync) on another thread while it prepares
 * the next group of events. The idempotency index is deferred (see `DeferredIndex`): the event ids
 * this store appended since the index's checkpoint are kept here, so `findByEventIds` sees them.
 * In front of both, a filter of the ids of the index and of those remembered here (`KnownIds`) spares
 * the look-up of ids it has never seen, most of them: a new event's.
 */
export class SqliteEventStore implements EventStore {
  /** One appender applies them, on this thread or on the storage worker, which serves its messages in order. */
  readonly ordered = true;
  private readonly stmt;
  private readonly recent = new Map<string, Map<string, number>>();
  private readonly order: Array<{ stream: string; eventId: string; globalPosition: bigint }> = [];
  private head = 0;
  /** Every id the index holds or will hold (`KnownIds`): made from the first look-up on (tools that only read never pay for it). */
  private known: KnownIds | null = null;

  /** An event store that appends on the calling thread, through its own connections. */
  static inThread(db: Db, projections: readonly SqliteProjection[] = []): SqliteEventStore {
    const appender = new SqliteLogAppender(db, openDatabase(db.name), projections);
    return new SqliteEventStore(db, async (appends) => appender.append(appends), () => appender.close());
  }

  constructor(private readonly db: Db, private readonly writes: LogWrites, private readonly onClose: () => void = () => undefined) {
    ensureLogSchema(db, [new EventIdIndex()]);
    this.stmt = {
      revision: db.prepare('select max(revision) as r from events where stream = ?'),
      byIds: db.prepare(`select e.* from event_ids i join events e on e.stream = i.stream and e.revision = i.revision
        where i.stream = ? and i.event_id in (select value from json_each(?))`),
      byRevisions: db.prepare('select * from events where stream = ? and revision in (select value from json_each(?))'),
      readStream: db.prepare('select * from events where stream = ? and revision >= ? order by revision limit ?'),
      readAll: db.prepare('select * from events where global_position >= ? order by global_position limit ?'),
    };
  }

  async append(appends: readonly StreamAppend[]): Promise<AppendOutcome[]> {
    const receipt = await this.writes(appends);
    receipt.recorded.forEach((events, i) => {
      const stream = appends[i]!.stream;
      let m = this.recent.get(stream);
      for (const [eventId, revision, globalPosition] of events) {
        if (!m) this.recent.set(stream, (m = new Map()));
        m.set(eventId, revision);
        this.known?.add(stream, eventId);
        this.order.push({ stream, eventId, globalPosition });
      }
    });
    this.forgetIndexed(receipt.idsIndexedThrough);
    return receipt.outcomes;
  }

  /** Events now in the on-disk index need not be remembered here. */
  private forgetIndexed(through: bigint) {
    while (this.head < this.order.length && this.order[this.head]!.globalPosition <= through) {
      const { stream, eventId } = this.order[this.head++]!;
      const m = this.recent.get(stream);
      m?.delete(eventId);
      if (m?.size === 0) this.recent.delete(stream);
    }
    if (this.head > 4096 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
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
    const recent = this.recent.get(stream);
    const revisions = recent ? eventIds.flatMap((id) => (recent.has(id) ? [recent.get(id)!] : [])) : [];
    const known = (this.known ??= new KnownIds(this.db, [this.recent]));
    const rest = eventIds.filter((id) => !recent?.has(id) && known.mightHave(stream, id));
    const rows = rest.length ? (this.stmt.byIds.all(stream, JSON.stringify(rest)) as LogRow[]) : [];
    if (revisions.length) rows.push(...(this.stmt.byRevisions.all(stream, JSON.stringify(revisions)) as LogRow[]));
    const seen = new Set<string>();
    return rows.filter((r) => !seen.has(r.event_id) && seen.add(r.event_id)).map(toRecorded);
  }

  async close(): Promise<void> {
    this.known?.stop();
    this.onClose();
    if (this.db.open) this.db.close();
  }
}
