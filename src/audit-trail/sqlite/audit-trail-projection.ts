import type { Statement } from 'better-sqlite3';
import type { Applied, DeferredIndex } from '../../ledger/sqlite/deferred-index.js';
import type { SqliteProjection } from '../../ledger/sqlite/sqlite-log-appender.js';
import { entryOf } from '../../ledger/entry-of.js';
import { isProcessingEntry, type ProcessingEntry } from '../../ledger/domain/log-entry.js';
import { PROCESSING_TYPES } from '../../ledger/domain/processing-event.js';
import { leafHash } from '../../ledger/domain/canonical.js';
import type { Db } from '../../common/sqlite/open-database.js';
import { sortableInstant } from '../../common/kernel/time.js';

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
 * (facets), so written in large groups after the commits instead (see `DeferredIndex`). `<table>_through`
 * says, per tenant, up to which position it is complete; readers scan `audit_events` after that.
 */
export class TrailPositionIndex implements DeferredIndex {
  readonly tables: readonly string[];
  readonly schema: string;
  private rows: Array<readonly [string, string, number]> = [];
  private through = new Map<string, number>();
  private counts = new Map<string, number>();
  private stmt: { insert: Statement<unknown[]>; through: Statement<unknown[]>; count: Statement<unknown[]> | null } | null = null;

  /** `counted`: how many positions each key has, per tenant, in `<table>_counts` (what a reader starts from). */
  constructor(readonly name: string, private readonly table: string, private readonly column: string,
    private readonly keysOf: (e: ProcessingEntry) => readonly string[], private readonly counted = false) {
    this.tables = [table, `${table}_through`, ...(counted ? [`${table}_counts`] : [])];
    this.schema = `
create table if not exists ${table} (tenant text not null, ${column} text not null, position integer not null, primary key (tenant, ${column}, position)${counted ? ') without rowid' : ')'};
create table if not exists ${table}_through (tenant text primary key, position integer not null);
${counted ? `create table if not exists ${table}_counts (tenant text not null, ${column} text not null, n integer not null, primary key (tenant, ${column}));` : ''}`;
  }

  add(events: readonly Applied[]): void {
    for (const { recorded, context } of events) {
      if (!PROCESSING.has(recorded.type)) continue;
      const e = entryOf(recorded, context);
      if (!isProcessingEntry(e)) continue;
      for (const key of this.keysOf(e)) {
        this.rows.push([e.tenant, key, e.position]);
        if (this.counted) { const k = `${e.tenant}\u0000${key}`; this.counts.set(k, (this.counts.get(k) ?? 0) + 1); }
      }
      this.through.set(e.tenant, e.position);
    }
  }

  write(db: Db): void {
    this.stmt ??= {
      insert: db.prepare(`insert or ignore into ${this.table} (tenant, ${this.column}, position) values (?, ?, ?)`),
      through: db.prepare(`insert into ${this.table}_through (tenant, position) values (?, ?) on conflict (tenant) do update set position = max(position, excluded.position)`),
      count: this.counted ? db.prepare(`insert into ${this.table}_counts (tenant, ${this.column}, n) values (?, ?, ?) on conflict (tenant, ${this.column}) do update set n = n + excluded.n`) : null,
    };
    // In key order: each B-tree page is visited once per group instead of once per row.
    this.rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[2] - b[2]));
    for (const r of this.rows) this.stmt.insert.run(r[0], r[1], r[2]);
    for (const [k, n] of this.counts) this.stmt.count!.run(...k.split('\u0000'), n);
    for (const [tenant, position] of this.through) this.stmt.through.run(tenant, position);
    this.rows = [];
    this.through = new Map();
    this.counts = new Map();
  }

  /** Forgets what was taken and not written (a rebuild fills the index in bulk instead). */
  protected clear(): void {
    this.rows = [];
    this.through = new Map();
    this.counts = new Map();
  }
}

/** The audit trail's subject index: each subject's positions (what a report reads). */
export class AuditSubjectIndex extends TrailPositionIndex {
  constructor() {
    super('audit-subjects', 'audit_subjects', 'subject', (e) => [e.subject.id]);
  }

  fillInBulk(db: Db): void {
    db.exec(`delete from audit_subjects;
      insert into audit_subjects (tenant, subject, position) select tenant, subject, position from audit_events order by tenant, subject, position;
      delete from audit_subjects_through;
      insert into audit_subjects_through (tenant, position) select tenant, max(position) from audit_events group by tenant;`);
    this.clear();
  }
}

/**
 * A facet of a processing entry, as the trail's facet index keys it: its type, purpose, system, each
 * category (recipients have an index of their own on the trail). A filter on any of them starts from
 * the facet's own positions instead of walking the whole trail: a facet nobody has costs nothing, a
 * rare one its few positions.
 */
export const facet = (kind: 'type' | 'purpose' | 'system' | 'category', value: string): string => `${kind[0]}:${value}`;

export const facetsOf = (e: ProcessingEntry): string[] => [
  facet('type', e.type), facet('purpose', e.purpose), facet('system', e.system), ...new Set(e.categories.map((c) => facet('category', c))),
];

/** The audit trail's facet index, with each facet's count (a filter of several facets starts from its rarest). */
export class AuditFacetIndex extends TrailPositionIndex {
  constructor() {
    super('audit-facets', 'audit_facets', 'facet', facetsOf, true);
  }

  /** The same rows as `facetsOf` gives, from the rebuilt trail (its categories read back from their `\u0001`-separated column). */
  fillInBulk(db: Db): void {
    db.exec(`delete from audit_facets;
      insert or ignore into audit_facets (tenant, facet, position)
        with recursive c(tenant, position, rest, category) as (
          select tenant, position, substr(categories, 2), null from audit_events
          union all select tenant, position, substr(rest, instr(rest, char(1)) + 1), substr(rest, 1, instr(rest, char(1)) - 1) from c where rest <> '')
        select tenant, facet, position from (
          select tenant, '${facet('type', '')}' || type as facet, position from audit_events
          union all select tenant, '${facet('purpose', '')}' || purpose, position from audit_events
          union all select tenant, '${facet('system', '')}' || system, position from audit_events
          union all select tenant, '${facet('category', '')}' || category, position from c where category is not null)
        order by tenant, facet, position;
      delete from audit_facets_counts;
      insert into audit_facets_counts (tenant, facet, n) select tenant, facet, count(*) from audit_facets group by tenant, facet;
      delete from audit_facets_through;
      insert into audit_facets_through (tenant, position) select tenant, max(position) from audit_events group by tenant;`);
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
