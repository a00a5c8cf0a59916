import type { Statement } from 'better-sqlite3';
import type { Db } from '../../common/sqlite/open-database.js';
import { sortableInstant } from '../../common/kernel/time.js';
import { isProcessingEntry } from '../../ledger/domain/log-entry.js';
import { entryOf } from '../../ledger/entry-of.js';
import { Slices, type Applied, type DeferredIndex } from '../../ledger/sqlite/deferred-index.js';
import { pushTo } from '../../common/kernel/multimap.js';

const ACTIVE = new Set(['collected', 'activity']);

const TABLE = 'create table if not exists cmp_activity (seq integer primary key, tenant text not null, subject text not null, at text not null);';
const INDEX = 'create index if not exists cmp_activity_at on cmp_activity (tenant, subject, at);';
/** Rows of the same activity (written without looking, see `ActivityIndex.unindexed`) left once: the first. */
const DEDUPE = 'delete from cmp_activity where seq not in (select min(seq) from cmp_activity group by tenant, subject, at)';

/**
 * When each subject showed activity (`collected`, `activity`): one row per event under a random key
 * (the subject), so a deferred index (see `DeferredIndex`): written in groups after the commits, with
 * what is not written yet kept here, where the compliance engine looks first. Readers on another
 * connection ask the writer to write it out first.
 */
export class ActivityIndex implements DeferredIndex {
  readonly name = 'compliance-activity';
  readonly tables = ['cmp_activity'];
  readonly schema = `${TABLE}\n${INDEX}`;
  /** Activity of events being committed now (dropped if the commit fails). */
  private pending = new Map<string, string[]>();
  /** Activity of committed events not yet written. */
  private recent = new Map<string, string[]>();
  /** The group being written (see `DeferredIndex.freeze`): its activity by subject, for `latest`, and its rows in key order. */
  private group: { byKey: Map<string, string[]>; rows: Slices<readonly [tenant: string, subject: string, at: string]> } | null = null;
  private insert: Statement<unknown[]> | null = null;
  /**
   * While a rebuild folds the log into empty tables, `cmp_activity_at` is not there (made once at its end,
   * one sort, rather than a row at a random place of it per event) and rows go in without looking for
   * their like; made as soon as anything reads the table (see `indexed`). Null otherwise.
   */
  private unindexed: Db | null = null;
  /** Where that fold dropped the index, to make sure of it at its end, whatever happened (see `finish`). */
  private dropped: Db | null = null;

  /**
   * Creates the table and its index; an index missing over rows (a rebuild stopped before it made it)
   * is made after the rows written more than once are left once.
   */
  static ensureSchema(db: Db): void {
    db.exec(TABLE);
    ActivityIndex.ensureIndex(db);
  }

  private static ensureIndex(db: Db): void {
    if (db.prepare("select 1 from sqlite_master where type = 'index' and name = 'cmp_activity_at'").get() !== undefined) return;
    db.exec(DEDUPE);
    db.exec(INDEX);
  }

  /** A fold into empty tables begins on `db`: the index waits (see `unindexed`). */
  dropIndex(db: Db): void {
    db.exec('drop index if exists cmp_activity_at');
    this.unindexed = this.dropped = db;
    this.insert = null;
  }

  /** The index is there (made now, if it waited): before anything reads the table. */
  indexed(): void {
    if (!this.unindexed) return;
    ActivityIndex.ensureIndex(this.unindexed);
    this.unindexed = null;
    this.insert = null;
  }

  /** The fold is over (or failed, its transaction rolled back, with the index made in it): the index is there. */
  finish(): void {
    if (this.dropped) ActivityIndex.ensureIndex(this.dropped);
    this.unindexed = this.dropped = null;
    this.insert = null;
  }

  private static key = (tenant: string, subject: string) => `${tenant}\u0000${subject}`;

  /** Records activity inside the commit under way. */
  note(tenant: string, subject: string, at: string): void {
    const k = ActivityIndex.key(tenant, subject);
    const list = this.pending.get(k);
    if (list) list.push(at);
    else this.pending.set(k, [at]);
  }

  /** The latest unwritten activity of the subject at or before `at`. */
  latest(tenant: string, subject: string, at: string): string | undefined {
    const k = ActivityIndex.key(tenant, subject);
    let best: string | undefined;
    for (const list of [this.recent.get(k), this.group?.byKey.get(k), this.pending.get(k)]) for (const t of list ?? []) if (t <= at && (!best || t > best)) best = t;
    return best;
  }

  /** The commit failed: forget what it noted. */
  drop(): void {
    this.pending = new Map();
  }

  add(events: readonly Applied[]): void {
    if (this.pending.size) {
      for (const [k, list] of this.pending) pushTo(this.recent, k, ...list);
      this.pending = new Map();
      return;
    }
    // Completing the index from the log at start-up: read the activity from the entries themselves.
    for (const { recorded, context } of events) {
      if (!ACTIVE.has(recorded.type)) continue;
      const e = entryOf(recorded, context);
      if (isProcessingEntry(e)) {
        const k = ActivityIndex.key(e.tenant, e.subject.id);
        pushTo(this.recent, k, sortableInstant(e.occurredAt));
      }
    }
  }

  /** In (subject, time) order: each page of the index is visited once per group, not once per row. */
  freeze(): void {
    if (this.group) return;
    const rows: Array<readonly [string, string, string]> = [];
    for (const k of [...this.recent.keys()].sort()) {
      const [tenant, subject] = k.split('\u0000') as [string, string];
      for (const at of [...this.recent.get(k)!].sort()) rows.push([tenant, subject, at]);
    }
    this.group = { byKey: this.recent, rows: new Slices(rows) };
    this.recent = new Map();
  }

  /**
   * A subject's activity at an instant is one row (as the subject's state keeps it): rows written again
   * after a crash (the log read again from the checkpoint) are not added twice.
   */
  write(db: Db, budget?: number): boolean {
    this.freeze();
    const rows = this.group!.rows.next(budget);
    if (this.unindexed) {
      // In (subject, time) order: the same activity twice in a group is written once here, across groups at the end.
      this.insert ??= db.prepare('insert into cmp_activity (tenant, subject, at) values (?, ?, ?)');
      let last: readonly [string, string, string] | undefined;
      for (const row of rows) {
        if (last && row[2] === last[2] && row[1] === last[1] && row[0] === last[0]) continue;
        this.insert.run(row[0], row[1], row[2]);
        last = row;
      }
    } else {
      this.insert ??= db.prepare('insert into cmp_activity (tenant, subject, at) select ?, ?, ? where not exists (select 1 from cmp_activity where tenant = ? and subject = ? and at = ?)');
      for (const [tenant, subject, at] of rows) this.insert.run(tenant, subject, at, tenant, subject, at);
    }
    return this.group!.rows.done;
  }

  committed(): void {
    this.group = null;
  }

  rewind(): void {
    this.group?.rows.rewind();
  }
}
