import type pg from 'pg';
import { sortableInstant } from '../../common/kernel/time.js';
import { insertStatement } from '../../common/postgres/rows.js';
import { leafHash } from '../../ledger/domain/canonical.js';
import type { ProcessingEntry } from '../../ledger/domain/log-entry.js';
import { PROCESSING_TYPES } from '../../ledger/domain/processing-event.js';
import { entryOf, storedEntryOf } from '../../ledger/entry-of.js';
import type { PgProjection } from '../../ledger/postgres/pg-projection.js';
import type { AuditFilter, AuditRow, AuditTrailReadModel } from '../audit-trail-read-model.port.js';

const PROCESSING = new Set<string>(PROCESSING_TYPES);

/** The audit trail's index: one row per processing event, searchable without decrypting anything. */
export function pgAuditTrailProjection(): PgProjection {
  return {
    name: 'audit-trail',
    tables: ['audit_events'],
    async apply(_tx, events, writes) {
      const rows: unknown[][] = [];
      for (const { recorded, context } of events) {
        if (!PROCESSING.has(recorded.type)) continue;
        const e = entryOf(recorded, context);
        if (!('subject' in e)) continue;
        const recipient = typeof e.details?.recipient === 'string' ? e.details.recipient : null;
        rows.push([e.tenant, e.position, recorded.stream, e.type, e.subject.id, e.purpose, e.system, recipient, `\u0001${e.categories.join('\u0001')}\u0001`,
          sortableInstant(e.occurredAt), sortableInstant(e.recordedAt), recorded.leafHash ?? leafHash(recorded.data)]);
      }
      writes.add(insertStatement('audit_events', [['tenant', 'text'], ['position', 'bigint'], ['stream', 'text'], ['type', 'text'], ['subject', 'text'], ['purpose', 'text'],
        ['system', 'text'], ['recipient', 'text'], ['categories', 'text'], ['occurred_at', 'text'], ['recorded_at', 'text'], ['hash', 'bytea']], rows, 'on conflict do nothing'));
    },
  };
}

/** A row of the trail: the hash as hex and the entry as text (bytea would come as hexadecimal text, decoded here). */
const ROW = "a.position, encode(a.hash, 'hex') as hash, convert_from(e.data, 'UTF8') as data";

const COLUMNS = { purpose: 'a.purpose', recipient: 'a.recipient', system: 'a.system', type: 'a.type', subject: 'a.subject' } as const;

/** Processing events of a tenant in log order, filtered on the trail's columns, the entries read from the log. */
export class PgAuditTrailReadModel implements AuditTrailReadModel {
  constructor(private readonly pool: pg.Pool) {}

  async at(tenant: string, positions: readonly number[]): Promise<AuditRow[]> {
    if (positions.length === 0) return [];
    return this.rows(`select ${ROW} from audit_events a join events e on e.stream = a.stream and e.revision = a.position
      where a.tenant = $1 and a.position = any($2::bigint[]) order by a.position`, [tenant, [...new Set(positions)]]);
  }

  async page(tenant: string, filter: AuditFilter, afterPosition: number, limit: number): Promise<AuditRow[]> {
    const args: unknown[] = [tenant, afterPosition];
    const where = ['a.tenant = $1', 'a.position > $2'];
    const arg = (v: unknown) => `$${args.push(v)}`;
    for (const [k, column] of Object.entries(COLUMNS) as Array<[keyof typeof COLUMNS, string]>) if (filter[k] !== undefined) where.push(`${column} = ${arg(filter[k])}`);
    if (filter.category !== undefined) where.push(`strpos(a.categories, ${arg(`\u0001${filter.category}\u0001`)}) > 0`);
    if (filter.from !== undefined) where.push(`a.occurred_at >= ${arg(filter.from)}`);
    if (filter.to !== undefined) where.push(`a.occurred_at < ${arg(filter.to)}`);
    if (filter.through !== undefined) where.push(`a.position <= ${arg(filter.through)}`);
    if (filter.disclosures) {
      where.push("a.type in ('disclosed', 'transferred')");
      where.push(filter.recipients ? `a.recipient = any(${arg(filter.recipients)}::text[])` : 'a.recipient is not null');
    }
    return this.rows(`select ${ROW} from audit_events a join events e on e.stream = a.stream and e.revision = a.position
      where ${where.join(' and ')} order by a.position limit ${arg(limit)}`, args);
  }

  private async rows(sql: string, args: unknown[]): Promise<AuditRow[]> {
    const { rows } = await this.pool.query<{ position: number; hash: string; data: string }>(sql, args);
    return rows.map((r) => ({ position: r.position, hash: r.hash, entry: storedEntryOf(r.data) as ProcessingEntry }));
  }
}
