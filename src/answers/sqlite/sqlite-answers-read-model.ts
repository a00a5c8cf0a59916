import type { Db } from '../../common/sqlite/open-database.js';
import { formatInstant } from '../../common/kernel/time.js';
import { tenantStream } from '../../ledger/domain/streams.js';
import type { AccessLogRow, AnswersReadModel, ObservedProcessing } from '../answers-read-model.port.js';
import { ANSWERS_SCHEMA, PurposeSubjectsIndex, SUBJECT_KIND_SQL } from './answers-projection.js';
import type { Synchronous } from '../../common/kernel/promised.js';

interface AccessRow { position: number; event_id: string; recorded_at: string; actor: string; what: string; subjects: string; detail: string }
interface ObservedRow { purpose: string; category: string; system: string; type: string; recipient: string; country: string; mechanism: string; first_position: number }

export class SqliteAnswersReadModel implements Synchronous<AnswersReadModel> {
  private readonly cache = new Map<string, ReturnType<Db['prepare']>>();
  private readonly s;

  constructor(private readonly db: Db) {
    db.exec(ANSWERS_SCHEMA);
    db.exec(new PurposeSubjectsIndex().schema);
    this.s = {
      head: db.prepare('select max(revision) from events where stream = ?').pluck(),
      recordedAt: db.prepare("select json_extract(cast(data as text), '$.recordedAt') from events where stream = ? and revision = ?").pluck(),
      observed: db.prepare('select * from ropa_observed where tenant = ? and first_position <= ? order by purpose, category, system, type, recipient, country, mechanism'),
      counts: db.prepare('select purpose, kind, subjects from ropa_subject_counts where tenant = ? order by purpose, kind'),
      subjects: db.prepare(`select purpose, ${SUBJECT_KIND_SQL} as kind, count(*) as subjects
        from ropa_subjects where tenant = ? and first_position <= ? group by purpose, kind order by purpose, kind`),
    };
  }

  positionAt(tenant: string, at: string): number {
    // Recording times never go back along a log: the last entry at or before `at`, by bisection.
    const stream = tenantStream(tenant);
    let lo = -1, hi = (this.s.head.get(stream) as number | null) ?? -1;
    const time = (p: number) => new Date(this.s.recordedAt.get(stream, p) as string).toISOString();
    if (hi < 0 || time(0) > at) return -1;
    lo = 0;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (time(mid) <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  accessLog(tenant: string, filter: { subject?: string; from?: string; to?: string }, afterPosition: number, limit: number): AccessLogRow[] {
    const where = ['a.tenant = ?', 'a.position > ?'];
    const args: unknown[] = [tenant, afterPosition];
    let from = 'access_log a';
    if (filter.subject !== undefined) {
      from = 'access_log_subjects s join access_log a on a.tenant = s.tenant and a.position = s.position';
      where.push('s.tenant = ?', 's.subject = ?', 's.position > ?');
      args.push(tenant, filter.subject, afterPosition);
    }
    if (filter.from !== undefined) { where.push('a.recorded_at >= ?'); args.push(filter.from); }
    if (filter.to !== undefined) { where.push('a.recorded_at < ?'); args.push(filter.to); }
    const sql = `select a.* from ${from} where ${where.join(' and ')} order by a.position limit ?`;
    let stmt = this.cache.get(sql);
    if (!stmt) { stmt = this.db.prepare(sql); this.cache.set(sql, stmt); }
    return (stmt.all([...args, limit]) as AccessRow[]).map((r) => ({
      position: r.position, eventId: r.event_id, recordedAt: formatInstant(new Date(r.recorded_at)), actor: JSON.parse(r.actor) as AccessLogRow['actor'],
      what: r.what, subjects: JSON.parse(r.subjects) as string[], detail: JSON.parse(r.detail) as Record<string, unknown>,
    }));
  }

  observed(tenant: string, through: number): ObservedProcessing[] {
    return (this.s.observed.all(tenant, through) as ObservedRow[]).map((r) => ({
      purpose: r.purpose, category: r.category, system: r.system, type: r.type, recipient: r.recipient || null, country: r.country || null,
      mechanism: r.mechanism || null, firstPosition: r.first_position,
    }));
  }

  /** Now: the counts kept as subjects are added; at a past position, counted (slower, and rarer). */
  subjectCounts(tenant: string, through: number) {
    const past = through < ((this.s.head.get(tenantStream(tenant)) as number | null) ?? -1);
    return (past ? this.s.subjects.all(tenant, through) : this.s.counts.all(tenant)) as Array<{ purpose: string; kind: string; subjects: number }>;
  }
}
