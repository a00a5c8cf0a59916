import type { Statement } from 'better-sqlite3';
import type { Applied, DeferredIndex } from '../../ledger/sqlite/deferred-index.js';
import type { SqliteProjection } from '../../ledger/sqlite/sqlite-log-appender.js';
import { entryOf } from '../../ledger/entry-of.js';
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
 * The audit trail's subject index, deferred: subjects are random keys, so it is written in large groups
 * after the commits (see `DeferredIndex`). `audit_subjects_through` says, per tenant, up to which
 * position it is complete; readers scan `audit_events` after that.
 */
export class AuditSubjectIndex implements DeferredIndex {
  readonly name = 'audit-subjects';
  readonly tables = ['audit_subjects', 'audit_subjects_through'];
  readonly schema = `
create table if not exists audit_subjects (tenant text not null, subject text not null, position integer not null, primary key (tenant, subject, position));
create table if not exists audit_subjects_through (tenant text primary key, position integer not null);`;
  private rows: Array<readonly [string, string, number]> = [];
  private through = new Map<string, number>();
  private stmt: { insert: Statement<unknown[]>; through: Statement<unknown[]> } | null = null;

  add(events: readonly Applied[]): void {
    for (const { recorded, context } of events) {
      if (!PROCESSING.has(recorded.type)) continue;
      const e = entryOf(recorded, context);
      if (!('subject' in e)) continue;
      this.rows.push([e.tenant, e.subject.id, e.position]);
      this.through.set(e.tenant, e.position);
    }
  }

  fillInBulk(db: Db): void {
    db.exec(`delete from audit_subjects;
      insert into audit_subjects (tenant, subject, position) select tenant, subject, position from audit_events order by tenant, subject, position;
      delete from audit_subjects_through;
      insert into audit_subjects_through (tenant, position) select tenant, max(position) from audit_events group by tenant;`);
    this.rows = [];
    this.through = new Map();
  }

  write(db: Db): void {
    this.stmt ??= {
      insert: db.prepare('insert or ignore into audit_subjects (tenant, subject, position) values (?, ?, ?)'),
      through: db.prepare('insert into audit_subjects_through (tenant, position) values (?, ?) on conflict (tenant) do update set position = max(position, excluded.position)'),
    };
    // In key order: each B-tree page is visited once per group instead of once per row.
    this.rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[2] - b[2]));
    for (const r of this.rows) this.stmt.insert.run(r[0], r[1], r[2]);
    for (const [tenant, position] of this.through) this.stmt.through.run(tenant, position);
    this.rows = [];
    this.through = new Map();
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
    deferred: new AuditSubjectIndex(),
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
