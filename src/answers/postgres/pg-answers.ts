import type pg from 'pg';
import { formatInstant, sortableInstant } from '../../common/kernel/time.js';
import { insertStatement } from '../../common/postgres/rows.js';
import { isProcessingEntry } from '../../ledger/domain/log-entry.js';
import { PROCESSING_TYPES } from '../../ledger/domain/processing-event.js';
import { tenantStream } from '../../ledger/domain/streams.js';
import { entryOf } from '../../ledger/entry-of.js';
import type { PgProjection } from '../../ledger/postgres/pg-projection.js';
import type { AccessLogRow, AnswersReadModel, ObservedProcessing } from '../answers-read-model.port.js';

const PROCESSING = new Set<string>(PROCESSING_TYPES);
/** `subjectKind` of the column `subject`, in PostgreSQL. */
const SUBJECT_KIND_PG = "case when strpos(subject, ':') > 1 then split_part(subject, ':', 1) else '' end";

/**
 * The access log (`accessed` entries, one row per subject read), the processing observed per purpose ×
 * category × system × type × recipient × country, and which subjects each purpose processed with their
 * count per kind — kept as rows are added, inside the append.
 */
export function pgAnswersProjection(): PgProjection {
  return {
    name: 'answers',
    tables: ['access_log', 'access_log_subjects', 'ropa_observed', 'ropa_subjects', 'ropa_subject_counts'],
    async apply(_tx, events, writes) {
      const access: unknown[][] = [];
      const accessSubjects: unknown[][] = [];
      const observed = new Map<string, unknown[]>();
      const purposeSubjects = new Map<string, unknown[]>();
      for (const { recorded, context } of events) {
        if (recorded.type !== 'accessed' && !PROCESSING.has(recorded.type)) continue;
        const e = entryOf(recorded, context);
        if (e.type === 'accessed') {
          const { what, subjects, ...detail } = e.access;
          access.push([e.tenant, e.position, e.eventId, sortableInstant(e.recordedAt), JSON.stringify(e.actor), what, JSON.stringify(subjects), JSON.stringify(detail)]);
          for (const subject of new Set(subjects)) accessSubjects.push([e.tenant, subject, e.position]);
          continue;
        }
        if (!isProcessingEntry(e)) continue;
        const d = e.details ?? {};
        const text = (v: unknown) => (typeof v === 'string' ? v : '');
        for (const category of e.categories) {
          const row = [e.tenant, e.purpose, category, e.system, e.type, text(d.recipient), text(d.country), text(d.mechanism), e.position];
          const k = row.slice(0, 8).join('\u0000');
          if (!observed.has(k)) observed.set(k, row);
        }
        const k = `${e.tenant}\u0000${e.purpose}\u0000${e.subject.id}`;
        if (!purposeSubjects.has(k)) purposeSubjects.set(k, [e.tenant, e.purpose, e.subject.id, e.position]);
      }
      writes.add(insertStatement('access_log', [['tenant', 'text'], ['position', 'bigint'], ['event_id', 'text'], ['recorded_at', 'text'], ['actor', 'jsonb'], ['what', 'text'], ['subjects', 'jsonb'], ['detail', 'jsonb']],
        access, 'on conflict do nothing'));
      writes.add(insertStatement('access_log_subjects', [['tenant', 'text'], ['subject', 'text'], ['position', 'bigint']], accessSubjects, 'on conflict do nothing'));
      writes.add(insertStatement('ropa_observed', [['tenant', 'text'], ['purpose', 'text'], ['category', 'text'], ['system', 'text'], ['type', 'text'], ['recipient', 'text'], ['country', 'text'],
        ['mechanism', 'text'], ['first_position', 'bigint']], [...observed.values()], 'on conflict do nothing'));
      if (purposeSubjects.size === 0) return;
      // The subjects new to a purpose, then counted per kind, in the same statement.
      writes.add(insertStatement('ropa_subjects', [['tenant', 'text'], ['purpose', 'text'], ['subject', 'text'], ['first_position', 'bigint']], [...purposeSubjects.values()],
        'on conflict do nothing returning tenant, purpose, subject'), 'ropa_subjects_added');
      writes.add({
        sql: `insert into ropa_subject_counts (tenant, purpose, kind, subjects) select tenant, purpose, ${SUBJECT_KIND_PG}, count(*) from ropa_subjects_added group by 1, 2, 3
          on conflict (tenant, purpose, kind) do update set subjects = ropa_subject_counts.subjects + excluded.subjects`,
        params: [],
      });
    },
  };
}

/** The observed processing's key: in its order (of bytes, as on SQLite), every answer lists it the same on every store. */
const OBSERVED_KEY = ['purpose', 'category', 'system', 'type', 'recipient', 'country', 'mechanism'];

interface AccessRow { position: number; event_id: string; recorded_at: string; actor: AccessLogRow['actor']; what: string; subjects: string[]; detail: Record<string, unknown> }
interface ObservedRow { purpose: string; category: string; system: string; type: string; recipient: string; country: string; mechanism: string; first_position: number }

export class PgAnswersReadModel implements AnswersReadModel {
  constructor(private readonly pool: pg.Pool) {}

  private async head(tenant: string): Promise<number> {
    return (await this.pool.query<{ revision: number }>('select revision from streams where stream = $1', [tenantStream(tenant)])).rows[0]?.revision ?? -1;
  }

  async positionAt(tenant: string, at: string): Promise<number> {
    // Recording times never go back along a log: the last entry at or before `at`, by bisection.
    const stream = tenantStream(tenant);
    let hi = await this.head(tenant);
    const time = async (p: number) => new Date((await this.pool.query<{ t: string }>("select convert_from(data, 'UTF8')::jsonb ->> 'recordedAt' as t from events where stream = $1 and revision = $2", [stream, p])).rows[0]!.t).toISOString();
    if (hi < 0 || (await time(0)) > at) return -1;
    let lo = 0;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if ((await time(mid)) <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  async accessLog(tenant: string, filter: { subject?: string; from?: string; to?: string }, afterPosition: number, limit: number): Promise<AccessLogRow[]> {
    const args: unknown[] = [tenant, afterPosition];
    const arg = (v: unknown) => `$${args.push(v)}`;
    const where = ['a.tenant = $1', 'a.position > $2'];
    if (filter.subject !== undefined) where.push(`exists (select 1 from access_log_subjects s where s.tenant = a.tenant and s.position = a.position and s.subject = ${arg(filter.subject)})`);
    if (filter.from !== undefined) where.push(`a.recorded_at >= ${arg(filter.from)}`);
    if (filter.to !== undefined) where.push(`a.recorded_at < ${arg(filter.to)}`);
    const { rows } = await this.pool.query<AccessRow>(`select a.* from access_log a where ${where.join(' and ')} order by a.position limit ${arg(limit)}`, args);
    return rows.map((r) => ({ position: r.position, eventId: r.event_id, recordedAt: formatInstant(new Date(r.recorded_at)), actor: r.actor, what: r.what, subjects: r.subjects, detail: r.detail }));
  }

  async observed(tenant: string, through: number): Promise<ObservedProcessing[]> {
    const { rows } = await this.pool.query<ObservedRow>(`select * from ropa_observed where tenant = $1 and first_position <= $2 order by ${OBSERVED_KEY.map((c) => `${c} collate "C"`).join(', ')}`, [tenant, through]);
    return rows.map((r) => ({
      purpose: r.purpose, category: r.category, system: r.system, type: r.type, recipient: r.recipient || null, country: r.country || null, mechanism: r.mechanism || null, firstPosition: r.first_position,
    }));
  }

  /** Now: the counts kept as subjects are added; at a past position, counted. */
  async subjectCounts(tenant: string, through: number): Promise<Array<{ purpose: string; kind: string; subjects: number }>> {
    const past = through < (await this.head(tenant));
    const { rows } = past
      ? await this.pool.query<{ purpose: string; kind: string; subjects: number }>(`select purpose, ${SUBJECT_KIND_PG} as kind, count(*)::bigint as subjects from ropa_subjects
          where tenant = $1 and first_position <= $2 group by 1, 2`, [tenant, through])
      : await this.pool.query<{ purpose: string; kind: string; subjects: number }>('select purpose, kind, subjects from ropa_subject_counts where tenant = $1', [tenant]);
    return rows.sort((a, b) => (a.purpose < b.purpose ? -1 : a.purpose > b.purpose ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  }
}
