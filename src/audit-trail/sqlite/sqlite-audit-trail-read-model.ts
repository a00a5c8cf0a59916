import { entryOf } from '../../ledger/entry-of.js';
import type { ProcessingEntry } from '../../ledger/domain/log-entry.js';
import type { Db } from '../../common/sqlite/open-database.js';
import type { AuditFilter, AuditRow, AuditTrailReadModel } from '../audit-trail-read-model.port.js';

interface Row { position: number; hash: Buffer; stream: string; revision: number; data: Buffer; type: string; global_position: number }

const COLUMNS: Record<Exclude<keyof AuditFilter, 'category' | 'from' | 'to'>, string> = {
  subject: 'a.subject = ?', purpose: 'a.purpose = ?', recipient: 'a.recipient = ?', system: 'a.system = ?', type: 'a.type = ?',
};

export class SqliteAuditTrailReadModel implements AuditTrailReadModel {
  private readonly cache = new Map<string, ReturnType<Db['prepare']>>();
  constructor(private readonly db: Db) {}

  page(tenant: string, filter: AuditFilter, afterPosition: number, limit: number): AuditRow[] {
    const where = ['a.tenant = ?', 'a.position > ?'];
    const args: unknown[] = [tenant, afterPosition];
    for (const [k, clause] of Object.entries(COLUMNS) as Array<[keyof typeof COLUMNS, string]>) {
      if (filter[k] !== undefined) { where.push(clause); args.push(filter[k]); }
    }
    if (filter.category !== undefined) { where.push('instr(a.categories, ?) > 0'); args.push(`\u0001${filter.category}\u0001`); }
    if (filter.from !== undefined) { where.push('a.occurred_at >= ?'); args.push(filter.from); }
    if (filter.to !== undefined) { where.push('a.occurred_at < ?'); args.push(filter.to); }
    const sql = `select a.position, a.hash, e.stream, e.revision, e.data, e.type, e.global_position from audit_events a
      join events e on e.stream = a.stream and e.revision = a.position where ${where.join(' and ')} order by a.position limit ?`;
    let stmt = this.cache.get(sql);
    if (!stmt) { stmt = this.db.prepare(sql); this.cache.set(sql, stmt); }
    return (stmt.all([...args, limit]) as Row[]).map((r) => ({
      position: r.position,
      hash: r.hash.toString('hex'),
      entry: entryOf({ stream: r.stream, revision: r.revision, data: r.data, type: r.type, eventId: '', globalPosition: BigInt(r.global_position) }) as ProcessingEntry,
    }));
  }
}
