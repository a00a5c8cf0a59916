import { storedEntryOf } from '../../ledger/entry-of.js';
import { leafHashOfText } from '../../ledger/domain/canonical.js';
import { tenantStream } from '../../ledger/domain/streams.js';
import type { ProcessingEntry } from '../../ledger/domain/log-entry.js';
import type { Db } from '../../common/sqlite/open-database.js';
import { AuditSubjectIndex } from './audit-trail-projection.js';
import type { AuditFilter, AuditRow, AuditTrailReadModel } from '../audit-trail-read-model.port.js';
import type { Synchronous } from '../../common/kernel/promised.js';

/** The entry as text, its leaf hash as lowercase hex: no buffer made per row (half the time of reading a report's rows). */
interface Row { position: number; hash: string | null; data: string }

/** A subject's positions: from its deferred index up to where that is complete, then from the trail's rows after. */
const SUBJECT_POSITIONS = `with p(position) as materialized (select s.position from audit_subjects s where s.tenant = ? and s.subject = ? and s.position > ? and s.position <= ?
  union all select t.position from audit_events t where t.tenant = ? and t.position > ? and t.subject = ?) `;

const COLUMNS: Record<Exclude<keyof AuditFilter, 'subject' | 'category' | 'from' | 'to' | 'disclosures' | 'recipients' | 'through'>, string> = {
  purpose: 'a.purpose = ?', recipient: 'a.recipient = ?', system: 'a.system = ?', type: 'a.type = ?',
};

export class SqliteAuditTrailReadModel implements Synchronous<AuditTrailReadModel> {
  private readonly cache = new Map<string, ReturnType<Db['prepare']>>();
  private readonly through;
  constructor(private readonly db: Db) {
    db.exec(new AuditSubjectIndex().schema);
    this.through = db.prepare('select position from audit_subjects_through where tenant = ?');
  }

  at(tenant: string, positions: readonly number[]): AuditRow[] {
    const out: AuditRow[] = [];
    for (const p of [...new Set(positions)].sort((a, b) => a - b)) out.push(...this.page(tenant, { through: p }, p - 1, 1));
    return out;
  }

  page(tenant: string, filter: AuditFilter, afterPosition: number, limit: number): AuditRow[] {
    if (filter.subject !== undefined && Object.keys(filter).every((k) => k === 'subject' || k === 'through')) return this.subjectPage(tenant, filter.subject, filter.through, afterPosition, limit);
    const where = ['a.tenant = ?', 'a.position > ?'];
    const args: unknown[] = [tenant, afterPosition];
    for (const [k, clause] of Object.entries(COLUMNS) as Array<[keyof typeof COLUMNS, string]>) {
      if (filter[k] !== undefined) { where.push(clause); args.push(filter[k]); }
    }
    if (filter.category !== undefined) { where.push('instr(a.categories, ?) > 0'); args.push(`\u0001${filter.category}\u0001`); }
    if (filter.from !== undefined) { where.push('a.occurred_at >= ?'); args.push(filter.from); }
    if (filter.to !== undefined) { where.push('a.occurred_at < ?'); args.push(filter.to); }
    if (filter.through !== undefined) { where.push('a.position <= ?'); args.push(filter.through); }
    if (filter.disclosures) {
      where.push("a.type in ('disclosed', 'transferred')");
      if (filter.recipients) { where.push(`a.recipient in (${filter.recipients.map(() => '?').join(', ')})`); args.push(...filter.recipients); }
      else where.push('a.recipient is not null');
    }
    let from = 'audit_events a';
    let subject = '';
    const head: unknown[] = [];
    if (filter.subject !== undefined) {
      // Materialised and joined in this order: otherwise SQLite flattens the union into the join and
      // walks the whole trail in position order, probing the subject's index at every row.
      const through = (this.through.get(tenant) as { position: number } | undefined)?.position ?? -1;
      subject = SUBJECT_POSITIONS;
      from = 'p cross join audit_events a on a.tenant = ? and a.position = p.position';
      head.push(tenant, filter.subject, afterPosition, through, tenant, Math.max(afterPosition, through), filter.subject, tenant);
    }
    return this.rows(`${subject}select a.position, lower(hex(a.hash)) as hash, cast(e.data as text) as data from ${from}
      cross join events e on e.stream = a.stream and e.revision = a.position where ${where.join(' and ')} order by a.position limit ?`, [...head, ...args, limit]);
  }

  /**
   * A subject's history (what its report reads): its positions, then the entries straight from the log,
   * without the trail's own rows (their leaf hashes are computed from the bytes instead).
   */
  private subjectPage(tenant: string, subject: string, through: number | undefined, afterPosition: number, limit: number): AuditRow[] {
    const indexed = (this.through.get(tenant) as { position: number } | undefined)?.position ?? -1;
    const last = through ?? Number.MAX_SAFE_INTEGER;
    return this.rows(`${SUBJECT_POSITIONS} select p.position, null as hash, cast(e.data as text) as data from p cross join events e on e.stream = ? and e.revision = p.position
      where p.position <= ? order by p.position limit ?`,
    [tenant, subject, afterPosition, indexed, tenant, Math.max(afterPosition, indexed), subject, tenantStream(tenant), last, limit]);
  }

  private rows(sql: string, args: unknown[]): AuditRow[] {
    let stmt = this.cache.get(sql);
    if (!stmt) { stmt = this.db.prepare(sql); this.cache.set(sql, stmt); }
    return (stmt.all(args) as Row[]).map((r) => ({
      position: r.position,
      hash: r.hash ?? leafHashOfText(r.data),
      entry: storedEntryOf(r.data) as ProcessingEntry,
    }));
  }
}
