import type { Statement } from 'better-sqlite3';
import type { Db } from '../../common/sqlite/open-database.js';
import type { Finding, FindingCode, Severity } from '../domain/finding.js';
import type { FindingFilter, StoredFinding } from '../findings-read-model.port.js';
import { pushTo } from '../../common/kernel/multimap.js';

export const FINDINGS_SCHEMA = `
create table if not exists findings (
  id integer primary key, tenant text not null, position integer not null, event_id text not null, subject text,
  code text not null, severity text not null, message text not null, occurred_at text, recorded_at text not null);
create index if not exists findings_by_tenant on findings (tenant, id);
create index if not exists findings_by_code on findings (tenant, code, id);
create index if not exists findings_by_subject on findings (tenant, subject, id);
create index if not exists findings_by_event on findings (tenant, event_id);
`;

interface Row { id: number; position: number; event_id: string; subject: string | null; code: FindingCode; severity: Severity; message: string; occurred_at: string | null; recorded_at: string }

const toFinding = (r: Row): StoredFinding => ({
  id: r.id, code: r.code, severity: r.severity, message: r.message, eventId: r.event_id, position: r.position,
  subject: r.subject, occurredAt: r.occurred_at, recordedAt: r.recorded_at,
});

/** Findings raised when events were recorded, in recording order. */
export class SqliteFindings {
  private readonly insert: Statement<unknown[]>;
  private readonly cache = new Map<string, Statement<unknown[]>>();
  private readonly byEvent: Statement<unknown[]>;
  private readonly byEvents: Statement<unknown[]>;

  constructor(private readonly db: Db) {
    db.exec(FINDINGS_SCHEMA);
    this.insert = db.prepare(`insert into findings (tenant, position, event_id, subject, code, severity, message, occurred_at, recorded_at)
      values (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.byEvent = db.prepare('select * from findings where tenant = ? and event_id = ? order by id');
    this.byEvents = db.prepare('select * from findings where tenant = ? and event_id in (select value from json_each(?)) order by id');
  }

  add(tenant: string, at: { position: number; eventId: string; subject: string | null; occurredAt: string | null; recordedAt: string }, findings: readonly Finding[]): void {
    for (const f of findings) this.insert.run(tenant, at.position, at.eventId, at.subject, f.code, f.severity, f.message, at.occurredAt, at.recordedAt);
  }

  ofEvent(tenant: string, eventId: string): StoredFinding[] {
    return (this.byEvent.all(tenant, eventId) as Row[]).map(toFinding);
  }

  /** The findings each of `eventIds` raised when it was recorded (as the append answer gave them). */
  ofEvents(tenant: string, eventIds: readonly string[]): Map<string, Finding[]> {
    const out = new Map<string, Finding[]>();
    for (const r of this.byEvents.all(tenant, JSON.stringify(eventIds)) as Row[]) {
      pushTo(out, r.event_id, { code: r.code, severity: r.severity, message: r.message });
    }
    return out;
  }

  page(tenant: string, filter: FindingFilter, afterId: number, limit: number): StoredFinding[] {
    const where = ['tenant = ?', 'id > ?'];
    const args: unknown[] = [tenant, afterId];
    if (filter.code !== undefined) { where.push('code = ?'); args.push(filter.code); }
    if (filter.severity !== undefined) { where.push('severity = ?'); args.push(filter.severity); }
    if (filter.subject !== undefined) { where.push('subject = ?'); args.push(filter.subject); }
    if (filter.from !== undefined) { where.push('occurred_at >= ?'); args.push(filter.from); }
    if (filter.to !== undefined) { where.push('occurred_at < ?'); args.push(filter.to); }
    const sql = `select * from findings where ${where.join(' and ')} order by id limit ?`;
    let stmt = this.cache.get(sql);
    if (!stmt) this.cache.set(sql, (stmt = this.db.prepare(sql)));
    return (stmt.all(...args, limit) as Row[]).map(toFinding);
  }
}
