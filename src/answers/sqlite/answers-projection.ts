import type { Statement } from 'better-sqlite3';
import type { Db } from '../../common/sqlite/open-database.js';
import { entryOf } from '../../ledger/entry-of.js';
import { canonicalJson } from '../../ledger/domain/canonical.js';
import { isProcessingEntry } from '../../ledger/domain/log-entry.js';
import { Slices, type Applied, type DeferredIndex } from '../../ledger/sqlite/deferred-index.js';
import type { SqliteProjection } from '../../ledger/sqlite/sqlite-log-appender.js';
import { sortableInstant } from '../../common/kernel/time.js';
import { PROCESSING_TYPES } from '../../ledger/domain/processing-event.js';
import { subjectKind } from '../domain/ropa.js';

const PROCESSING = new Set<string>(PROCESSING_TYPES);

/**
 * `access_log`: every read of subject data (`accessed` entries), with one row per subject read for the
 * subject filter. `ropa_observed`: each combination of purpose × category × system × type × recipient ×
 * country seen, with the first position it was seen at (a handful of rows per tenant: written inline,
 * skipping combinations already written). Empty text stands for "none" so the key can be unique.
 */
export const ANSWERS_SCHEMA = `
create table if not exists access_log (
  tenant text not null, position integer not null, event_id text not null, recorded_at text not null, actor text not null,
  what text not null, subjects text not null, detail text not null, primary key (tenant, position));
create table if not exists access_log_subjects (tenant text not null, subject text not null, position integer not null, primary key (tenant, subject, position));
create table if not exists ropa_observed (
  tenant text not null, purpose text not null, category text not null, system text not null, type text not null,
  recipient text not null, country text not null, mechanism text not null, first_position integer not null,
  primary key (tenant, purpose, category, system, type, recipient, country, mechanism));
`;

/** `subjectKind` (domain/ropa.ts) of the column `subject`, in SQL. */
export const SUBJECT_KIND_SQL = "case when instr(subject, ':') > 1 then substr(subject, 1, instr(subject, ':') - 1) else '' end";

/** Bounds the memory of combinations already written (beyond it, the table's unique key still holds). */
const MEMO_LIMIT = 100_000;

/**
 * Which subjects were processed for which purpose (for the RoPA's count of subjects): a random key per
 * event, so a deferred index, written in groups after the commits (see `DeferredIndex`).
 */
export class PurposeSubjectsIndex implements DeferredIndex {
  readonly name = 'ropa-subjects';
  readonly tables = ['ropa_subjects', 'ropa_subject_counts'];
  /** `ropa_subject_counts`: per purpose and kind of subject, how many there are (kept as rows are added, so the RoPA does not count them). */
  readonly schema = `
create table if not exists ropa_subjects (tenant text not null, purpose text not null, subject text not null, first_position integer not null, primary key (tenant, purpose, subject));
create table if not exists ropa_subject_counts (tenant text not null, purpose text not null, kind text not null, subjects integer not null, primary key (tenant, purpose, kind));`;
  private rows = new Map<string, number>();
  /** The group being written (see `DeferredIndex.freeze`), in key order. */
  private group: Slices<readonly [string, number]> | null = null;
  private stmt: { insert: Statement<unknown[]>; count: Statement<unknown[]> } | null = null;

  add(events: readonly Applied[]): void {
    for (const { recorded, context } of events) {
      if (!PROCESSING.has(recorded.type)) continue;
      const e = entryOf(recorded, context);
      if (!isProcessingEntry(e)) continue;
      const k = `${e.tenant}\u0000${e.purpose}\u0000${e.subject.id}`;
      if (!this.rows.has(k)) this.rows.set(k, e.position);
    }
  }

  fillInBulk(db: Db): void {
    db.exec(`delete from ropa_subjects;
      insert into ropa_subjects (tenant, purpose, subject, first_position) select tenant, purpose, subject, min(position) from audit_events group by tenant, purpose, subject;
      delete from ropa_subject_counts;
      insert into ropa_subject_counts (tenant, purpose, kind, subjects)
        select tenant, purpose, ${SUBJECT_KIND_SQL} as kind, count(*) from ropa_subjects group by 1, 2, 3;`);
    this.rows = new Map();
  }

  /** In key order: each B-tree page is visited once per group instead of once per row. */
  freeze(): void {
    if (this.group) return;
    this.group = new Slices([...this.rows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    this.rows = new Map();
  }

  write(db: Db, budget?: number): boolean {
    this.stmt ??= {
      insert: db.prepare('insert or ignore into ropa_subjects (tenant, purpose, subject, first_position) values (?, ?, ?, ?)'),
      count: db.prepare('insert into ropa_subject_counts (tenant, purpose, kind, subjects) values (?, ?, ?, ?) on conflict (tenant, purpose, kind) do update set subjects = subjects + excluded.subjects'),
    };
    this.freeze();
    const added = new Map<string, number>();
    // Counted by the rows actually added: a row written again (after a crash) counts once.
    for (const [k, position] of this.group!.next(budget)) {
      const [tenant, purpose, subject] = k.split('\u0000') as [string, string, string];
      if (this.stmt.insert.run(tenant, purpose, subject, position).changes === 0) continue;
      const kk = `${tenant}\u0000${purpose}\u0000${subjectKind(subject)}`;
      added.set(kk, (added.get(kk) ?? 0) + 1);
    }
    for (const [k, n] of added) {
      const [tenant, purpose, kind] = k.split('\u0000') as [string, string, string];
      this.stmt.count.run(tenant, purpose, kind, n);
    }
    return this.group!.done;
  }

  committed(): void {
    this.group = null;
  }

  rewind(): void {
    this.group?.rewind();
  }
}

export function answersProjection(db: Db): SqliteProjection {
  db.exec(ANSWERS_SCHEMA);
  const s = {
    access: db.prepare('insert or ignore into access_log (tenant, position, event_id, recorded_at, actor, what, subjects, detail) values (?, ?, ?, ?, ?, ?, ?, ?)'),
    accessSubject: db.prepare('insert or ignore into access_log_subjects (tenant, subject, position) values (?, ?, ?)'),
    observed: db.prepare('insert or ignore into ropa_observed (tenant, purpose, category, system, type, recipient, country, mechanism, first_position) values (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
  };
  let written = new Set<string>();
  return {
    name: 'answers',
    deferred: [new PurposeSubjectsIndex()],
    rebuild: { tables: ['access_log', 'access_log_subjects', 'ropa_observed'], schema: ANSWERS_SCHEMA },
    reset() {
      written = new Set();
    },
    apply(_tx, events) {
      for (const { recorded, context } of events) {
        if (recorded.type !== 'accessed' && !PROCESSING.has(recorded.type)) continue;
        const e = entryOf(recorded, context);
        if (e.type === 'accessed') {
          const { what, subjects, ...detail } = e.access;
          s.access.run(e.tenant, e.position, e.eventId, sortableInstant(e.recordedAt), canonicalJson(e.actor), what, JSON.stringify(subjects), canonicalJson(detail));
          for (const subject of new Set(subjects)) s.accessSubject.run(e.tenant, subject, e.position);
          continue;
        }
        if (!isProcessingEntry(e)) continue;
        const d = e.details ?? {};
        const recipient = typeof d.recipient === 'string' ? d.recipient : '';
        const country = typeof d.country === 'string' ? d.country : '';
        const mechanism = typeof d.mechanism === 'string' ? d.mechanism : '';
        for (const category of e.categories) {
          const k = `${e.tenant}\u0000${e.purpose}\u0000${category}\u0000${e.system}\u0000${e.type}\u0000${recipient}\u0000${country}\u0000${mechanism}`;
          if (written.has(k)) continue;
          if (written.size >= MEMO_LIMIT) written = new Set();
          written.add(k);
          s.observed.run(e.tenant, e.purpose, category, e.system, e.type, recipient, country, mechanism, e.position);
        }
      }
    },
  };
}
