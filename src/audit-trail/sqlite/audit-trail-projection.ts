import type { Statement } from 'better-sqlite3';
import { Slices, type Applied, type DeferredIndex } from '../../ledger/sqlite/deferred-index.js';
import type { RecordedEvent } from '../../ledger/event-store.port.js';
import type { SqliteProjection } from '../../ledger/sqlite/sqlite-log-appender.js';
import { entryOf } from '../../ledger/entry-of.js';
import { isProcessingEntry, type ProcessingEntry } from '../../ledger/domain/log-entry.js';
import { PROCESSING_TYPES } from '../../ledger/domain/processing-event.js';
import { leafHash } from '../../ledger/domain/canonical.js';
import type { Db } from '../../common/sqlite/open-database.js';
import { sortableInstant } from '../../common/kernel/time.js';
import { facetsOf } from '../facets.js';

const SCHEMA = `
create table if not exists audit_events (
  tenant text not null, position integer not null, stream text not null, type text not null,
  subject text not null, purpose text not null, system text not null, recipient text,
  categories text not null, occurred_at text not null, recorded_at text not null, hash blob not null,
  primary key (tenant, position));
drop index if exists audit_events_subject;
create index if not exists audit_events_recipient on audit_events (tenant, recipient, position) where recipient is not null;
`;

const PROCESSING = new Set<string>(PROCESSING_TYPES);

/**
 * A deferred index of the trail's positions under keys taken from each processing entry: keys that
 * would scatter each commit's writes over the file (subjects) or add several rows per event to it
 * (facets), so written in large groups after the commits instead (see `DeferredIndex`). `<name>_through`
 * says, per tenant, up to which position it is complete; readers scan `audit_events` after that.
 */
abstract class TrailKeyIndex<Row extends readonly [tenant: string, key: unknown, position: number, ...more: unknown[]]> implements DeferredIndex {
  abstract readonly name: string;
  abstract readonly tables: readonly string[];
  abstract readonly schema: string;
  /** Taken and not yet written: (tenant, key, position, and what else the index keeps). */
  protected rows: Row[] = [];
  private through = new Map<string, number>();
  /** The group being written (see `DeferredIndex.freeze`): its rows in key order, and its high-water marks. */
  private group: { rows: Slices<Row>; through: Map<string, number> } | null = null;
  private setThrough: Statement<unknown[]> | null = null;

  /** `keyOrder`: the group is sorted into it (keys that come at random); without, rows stay in log order. */
  constructor(private readonly throughTable: string, private readonly rowsOf: (e: ProcessingEntry, recorded: RecordedEvent) => readonly Row[], private readonly keyOrder?: (a: Row, b: Row) => number) {}

  add(events: readonly Applied[]): void {
    for (const { recorded, context } of events) {
      if (!PROCESSING.has(recorded.type)) continue;
      const e = entryOf(recorded, context);
      if (!isProcessingEntry(e)) continue;
      for (const row of this.rowsOf(e, recorded)) this.rows.push(row);
      this.through.set(e.tenant, e.position);
    }
  }

  /** In (tenant, key, position) order where keys are random: each B-tree page is visited once per group instead of once per row. */
  freeze(): void {
    if (this.group) return;
    if (this.keyOrder) this.rows.sort(this.keyOrder);
    this.group = { rows: new Slices(this.rows), through: this.through };
    this.clear();
  }

  /** Writes rows of the group (already in key order); writing a row again leaves the index as it was. */
  protected abstract writeRows(db: Db, rows: readonly Row[]): void;

  write(db: Db, budget?: number): boolean {
    this.freeze();
    const group = this.group!;
    const rows = group.rows.next(budget);
    if (rows.length) this.writeRows(db, rows);
    if (!group.rows.done) return false;
    // With the group's last rows: each tenant's high-water mark moves to what was written.
    this.setThrough ??= db.prepare(`insert into ${this.throughTable} (tenant, position) values (?, ?) on conflict (tenant) do update set position = max(position, excluded.position)`);
    for (const [tenant, position] of group.through) this.setThrough.run(tenant, position);
    return true;
  }

  committed(): void {
    this.group = null;
  }

  rewind(): void {
    this.group?.rows.rewind();
  }

  /** Forgets what was taken and not written (a rebuild fills the index in bulk instead). */
  protected clear(): void {
    this.rows = [];
    this.through = new Map();
  }
}

/**
 * The audit trail's subject index: each subject's positions (what a report reads), each with the entry's
 * global position and leaf hash, so that a report reads its entries straight from the log by global
 * position, their hashes from here, instead of looking each entry up by (stream, revision) and hashing it.
 */
export class AuditSubjectIndex extends TrailKeyIndex<readonly [string, string, number, bigint, Buffer]> {
  readonly name = 'audit-subjects';
  readonly tables = ['audit_subjects', 'audit_subjects_through'];
  // Keyed by global position (each event once: rewriting a group is idempotent); the index holds every
  // other column, so a subject's rows are one ordered range of it, the table itself never read. (A
  // `WITHOUT ROWID` table keyed by (tenant, subject, position) would hold each row once and fill in 2.7 s
  // instead of 4.5–5.7 on the demo ledger, but tools that address rows by rowid, the acceptance checks'
  // tampering among them, cannot read such a table: every table of the store keeps its rowid.)
  readonly schema = `
create table if not exists audit_subjects (global_position integer primary key, tenant text not null, subject text not null, position integer not null, hash blob not null);
create index if not exists audit_subjects_key on audit_subjects (tenant, subject, position, hash);
create table if not exists audit_subjects_through (tenant text primary key, position integer not null);`;
  private insert: Statement<unknown[]> | null = null;

  constructor() {
    super('audit_subjects_through', (e, r) => [[e.tenant, e.subject.id, e.position, r.globalPosition, r.leafHash ?? leafHash(r.data)]],
      (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[2] - b[2]));
  }

  protected writeRows(db: Db, rows: ReadonlyArray<readonly [string, string, number, bigint, Buffer]>): void {
    this.insert ??= db.prepare('insert or ignore into audit_subjects (tenant, subject, position, global_position, hash) values (?, ?, ?, ?, ?)');
    for (const r of rows) this.insert.run(r[0], r[1], r[2], r[3], r[4]);
  }

  fillInBulk(db: Db): void {
    // In the table's order, the index made afterwards (sorted once, instead of an insert into it per row).
    db.exec(`delete from audit_subjects;
      drop index if exists audit_subjects_key;
      insert into audit_subjects (global_position, tenant, subject, position, hash)
        select e.global_position, a.tenant, a.subject, a.position, a.hash from audit_events a cross join events e on e.stream = a.stream and e.revision = a.position
        order by e.global_position;
      create index audit_subjects_key on audit_subjects (tenant, subject, position, hash);
      delete from audit_subjects_through;
      insert into audit_subjects_through (tenant, position) select tenant, max(position) from audit_events group by tenant;`);
    this.clear();
  }
}

/** A facet's positions are the keys `id × FACET_SPAN + position` of `audit_facets` (positions stay below 2^40). */
export const FACET_SPAN = 1_099_511_627_776;

/** Positions in ascending order, sorted in place only where they are not already (they mostly come in order). */
function ascending(list: number[]): number[] {
  if (list.some((p, i) => i > 0 && p < list[i - 1]!)) list.sort((a, b) => a - b);
  return list;
}

/** Combinations of facets remembered (`AuditFacetIndex`) before the memory of them starts again. */
const FACET_COMBINATIONS = 10_000;

/**
 * The audit trail's facet index: each (tenant, facet) numbered in `audit_facet_names` with its count of
 * positions (a filter of several facets starts from its rarest), and its positions as one integer key
 * each, so that a facet's positions are one ordered range of a table of integers. Taken one row an event,
 * its facets one list shared by every event of the same combination (declarations bound them): a row a
 * facet, each with a facet string made anew, held ~500 bytes an event in the storage thread's heap until
 * written (up to two groups of 20,000 events).
 */
export class AuditFacetIndex extends TrailKeyIndex<readonly [string, readonly string[], number]> {
  readonly name = 'audit-facets';
  readonly tables = ['audit_facets', 'audit_facet_names', 'audit_facets_through'];
  readonly schema = `
create table if not exists audit_facet_names (id integer primary key, tenant text not null, facet text not null, n integer not null, unique (tenant, facet));
create table if not exists audit_facets (key integer primary key);
create table if not exists audit_facets_through (tenant text primary key, position integer not null);`;
  private stmt: { name: Statement<unknown[]>; id: Statement<unknown[]>; count: Statement<unknown[]>; insert: Statement<unknown[]> } | null = null;

  // In log order, not sorted: each facet's positions come ascending and go to the end of its range.
  constructor() {
    const combinations = new Map<string, readonly string[]>();
    super('audit_facets_through', (e) => {
      const k = `${e.type}\u0000${e.purpose}\u0000${e.system}\u0000${e.categories.join('\u0001')}`;
      let facets = combinations.get(k);
      if (!facets) {
        if (combinations.size >= FACET_COMBINATIONS) combinations.clear();
        combinations.set(k, (facets = facetsOf(e)));
      }
      return [[e.tenant, facets, e.position]];
    });
  }

  protected writeRows(db: Db, rows: ReadonlyArray<readonly [string, readonly string[], number]>): void {
    const s = (this.stmt ??= {
      name: db.prepare('insert into audit_facet_names (tenant, facet, n) values (?, ?, 0) on conflict (tenant, facet) do nothing'),
      id: db.prepare('select id from audit_facet_names where tenant = ? and facet = ?').pluck(),
      count: db.prepare('update audit_facet_names set n = n + ? where id = ?'),
      insert: db.prepare(`insert or ignore into audit_facets (key) select ? * ${FACET_SPAN} + value from json_each(?)`),
    });
    // Numbers looked up once per slice (a few dozen facets), not kept across slices: a slice whose
    // transaction fails must not leave numbers behind that the table no longer has.
    const ids = new Map<string, number>();
    const positions = new Map<number, number[]>();
    for (const [tenant, facets, position] of rows) {
      for (const f of facets) {
        const k = `${tenant}\u0000${f}`;
        let id = ids.get(k);
        if (id === undefined) {
          s.name.run(tenant, f);
          ids.set(k, (id = s.id.get(tenant, f) as number));
        }
        const list = positions.get(id);
        if (list) list.push(position);
        else positions.set(id, [position]);
      }
    }
    // Each facet's positions of the slice in one statement (a JSON array), in order: they go to the end of
    // its range, a few pages per facet (a statement per key cost twice as much, most of it in the calls).
    // Counted by the keys actually added, so that positions written again after a crash count once.
    for (const [id, list] of positions) {
      const added = s.insert.run(id, JSON.stringify(ascending(list))).changes;
      if (added) s.count.run(added, id);
    }
  }

  /** From the rebuilt trail: every facet's positions gathered, then written facet after facet, each key after the one before. */
  fillInBulk(db: Db): void {
    db.exec('delete from audit_facets; delete from audit_facet_names; delete from audit_facets_through;');
    const positions = new Map<string, number[]>();
    // The position lists of each combination of a row's faceted columns, worked out at its first row: a
    // trail has few of them (declarations bound them), and a row then costs one lookup, not one a facet.
    const combinations = new Map<string, number[][]>();
    // In the table's own order (no index walked); each facet's positions sorted afterwards where they are not yet.
    // A row's combination comes joined by SQLite (the columns hold no U+0000): one string a row instead of
    // five (the demo ledger's 1M rows: 1.3 s instead of 1.9-2.1).
    const trail = db.prepare("select tenant || char(0) || type || char(0) || purpose || char(0) || system || char(0) || categories, position from audit_events").raw();
    for (const [combination, position] of trail.iterate() as Iterable<[string, number]>) {
      let lists = combinations.get(combination);
      if (!lists) {
        const [tenant, type, purpose, system, categories] = combination.split('\u0000') as [string, string, string, string, string];
        // The categories column holds them between and after U+0001 separators.
        const e = { type, purpose, system, categories: categories.length > 2 ? categories.slice(1, -1).split('\u0001') : [] } as unknown as ProcessingEntry;
        lists = facetsOf(e).map((f) => {
          const k = `${tenant}\u0000${f}`;
          let list = positions.get(k);
          if (!list) positions.set(k, (list = []));
          return list;
        });
        combinations.set(combination, lists);
      }
      for (const list of lists) list.push(position);
    }
    const name = db.prepare('insert into audit_facet_names (tenant, facet, n) values (?, ?, ?) returning id').pluck();
    // Many keys a statement (a JSON array of positions), rather than a statement a key.
    const insert = db.prepare(`insert into audit_facets (key) select ? * ${FACET_SPAN} + value from json_each(?)`);
    for (const [k, list] of positions) {
      ascending(list);
      const [tenant, f] = k.split('\u0000') as [string, string];
      const id = name.get(tenant, f, list.length) as number;
      for (let i = 0; i < list.length; i += 50_000) insert.run(id, JSON.stringify(list.slice(i, i + 50_000)));
    }
    db.exec('insert into audit_facets_through (tenant, position) select tenant, max(position) from audit_events group by tenant');
    this.clear();
  }
}

/** The audit trail's index: one row per processing event, searchable without decrypting anything. */
export function auditTrailProjection(db: Db): SqliteProjection {
  db.exec(SCHEMA);
  const insert = db.prepare(`insert or ignore into audit_events
    (tenant, position, stream, type, subject, purpose, system, recipient, categories, occurred_at, recorded_at, hash)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  return {
    name: 'audit-trail',
    rebuild: { tables: ['audit_events'], schema: SCHEMA },
    deferred: [new AuditSubjectIndex(), new AuditFacetIndex()],
    apply(_tx, events) {
      for (const { recorded, context } of events) {
        if (!PROCESSING.has(recorded.type)) continue;
        const e = entryOf(recorded, context);
        if (!('subject' in e)) continue;
        const recipient = typeof e.details?.recipient === 'string' ? e.details.recipient : null;
        insert.run(e.tenant, e.position, recorded.stream, e.type, e.subject.id, e.purpose, e.system, recipient,
          `\u0001${e.categories.join('\u0001')}\u0001`, sortableInstant(e.occurredAt), sortableInstant(e.recordedAt), recorded.leafHash ?? leafHash(recorded.data));
      }
    },
  };
}
