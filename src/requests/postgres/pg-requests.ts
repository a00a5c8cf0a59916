import type pg from 'pg';
import { sortableInstant } from '../../common/kernel/time.js';
import { lookUpEach } from '../../common/postgres/rows.js';
import { entryOf } from '../../ledger/entry-of.js';
import type { LogEntry } from '../../ledger/domain/log-entry.js';
import type { PgProjection } from '../../ledger/postgres/pg-projection.js';
import type { SubjectRequestStatus } from '../domain/requests.js';
import { authorityView, collectSubjectRequests, show, SUBJECT_REQUESTS_PAGE, subjectView, type ArRow, type SrRow } from '../request-views.js';
import type { AuthorityRequestView, DestroyedKey, RequestsReadModel, SubjectRequestView } from '../requests-read-model.port.js';

type RequestEntry = Extract<LogEntry, { type: `${'subject' | 'authority'}-request-${string}` }>;
const TYPES = new Set<string>(['subject-request-received', 'subject-request-extended', 'subject-request-completed', 'authority-request-received', 'authority-request-decided', 'authority-request-closed', 'authority-request-unsealed', 'subject-forgotten', 'key-destroyed']);

/** Subject and authority requests, the disclosures made under each, forgotten subjects and destroyed keys (as on SQLite). */
export function pgRequestsProjection(): PgProjection {
  return {
    name: 'requests',
    tables: ['subject_requests', 'authority_requests', 'authority_request_subjects', 'authority_disclosures', 'forgotten_subjects', 'destroyed_keys'],
    async apply(tx, events) {
      const q = (sql: string, args: unknown[]) => tx.query(sql, args);
      for (const { recorded, context } of events) {
        if (recorded.type === 'disclosed') {
          const e = entryOf(recorded, context);
          const request = 'details' in e ? e.details?.authorityRequestId : undefined;
          if (typeof request === 'string') await q('insert into authority_disclosures (tenant, request, position) values ($1, $2, $3) on conflict do nothing', [e.tenant, request, e.position]);
          continue;
        }
        if (!TYPES.has(recorded.type)) continue;
        const any = entryOf(recorded, context);
        if (any.type === 'subject-forgotten') {
          await q('insert into forgotten_subjects (tenant, subject, position, reason) values ($1, $2, $3, $4) on conflict do nothing', [any.tenant, any.forget.subject, any.position, any.forget.reason ?? null]);
          continue;
        }
        if (any.type === 'key-destroyed') {
          await q('insert into destroyed_keys (tenant, subject, category, position, recorded_at, reason, request, event_id) values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing',
            [any.tenant, any.shred.subject, any.shred.category, any.position, sortableInstant(any.recordedAt), any.shred.reason, any.shred.request ?? null, any.eventId]);
          continue;
        }
        const e = any as RequestEntry;
        const at = sortableInstant(e.recordedAt);
        switch (e.type) {
          case 'subject-request-received': {
            const r = e.request;
            await q('insert into subject_requests (tenant, id, type, subject, received_at, due_at, position, event_id) values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing',
              [e.tenant, r.id, r.type, r.subject, sortableInstant(r.receivedAt), sortableInstant(r.dueAt), e.position, e.eventId]);
            break;
          }
          case 'subject-request-extended':
            await q('update subject_requests set due_at = $1, extended_reason = $2, extended_position = $3 where tenant = $4 and id = $5', [sortableInstant(e.request.dueAt), e.request.reason, e.position, e.tenant, e.request.id]);
            break;
          case 'subject-request-completed':
            await q('update subject_requests set completed_at = $1, outcome = $2, reason = $3, completed_position = $4 where tenant = $5 and id = $6', [at, e.request.outcome, e.request.reason ?? null, e.position, e.tenant, e.request.id]);
            break;
          case 'authority-request-received': {
            const r = e.request;
            await q(`insert into authority_requests (tenant, id, authority, reference, legal_basis, received_at, subjects, sealed, position) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
              on conflict do nothing`, [e.tenant, r.id, r.authority, r.reference, r.legalBasis, sortableInstant(r.receivedAt), JSON.stringify(r.subjects), r.sealed, e.position]);
            await q('insert into authority_request_subjects (tenant, subject, id) select $1, s, $3 from unnest($2::text[]) as s on conflict do nothing', [e.tenant, r.subjects, r.id]);
            break;
          }
          case 'authority-request-decided':
            await q('update authority_requests set decision = $1, rationale = $2, decided_at = $3, decided_position = $4 where tenant = $5 and id = $6', [e.request.decision, e.request.rationale, at, e.position, e.tenant, e.request.id]);
            break;
          case 'authority-request-closed':
            await q('update authority_requests set closed_at = $1, closed_position = $2 where tenant = $3 and id = $4', [at, e.position, e.tenant, e.request.id]);
            break;
          case 'authority-request-unsealed':
            await q('update authority_requests set unsealed_position = $1 where tenant = $2 and id = $3', [e.position, e.tenant, e.request.id]);
            break;
        }
      }
    },
  };
}

export class PgRequestsReadModel implements RequestsReadModel {
  constructor(private readonly pool: pg.Pool) {}

  private async all<T extends pg.QueryResultRow>(sql: string, args: unknown[]): Promise<T[]> {
    return (await this.pool.query<T>(sql, args)).rows;
  }

  async subjectRequest(tenant: string, id: string, at: string): Promise<SubjectRequestView | null> {
    const [r] = await this.all<SrRow>('select * from subject_requests where tenant = $1 and id = $2', [tenant, id]);
    return r ? subjectView(r, at) : null;
  }

  async subjectRequests(tenant: string, at: string, status: SubjectRequestStatus | undefined, afterPosition: number, limit: number) {
    const out: Array<SubjectRequestView & { position: number }> = [];
    for (let after: number | null = afterPosition; after !== null && out.length < limit;) {
      const rows = await this.all<SrRow>('select * from subject_requests where tenant = $1 and position > $2 and received_at <= $3 order by position limit $4', [tenant, after, at, SUBJECT_REQUESTS_PAGE]);
      after = collectSubjectRequests(rows, at, status, limit, out);
    }
    return out;
  }

  async subjectRequestsOf(tenant: string, subject: string, at: string, asOf = Number.MAX_SAFE_INTEGER) {
    return (await this.all<SrRow>('select * from subject_requests where tenant = $1 and subject = $2 and position <= $3 order by position', [tenant, subject, asOf])).map((r) => subjectView(r, at, asOf));
  }

  async authorityRequest(tenant: string, id: string, asOf = Number.MAX_SAFE_INTEGER): Promise<AuthorityRequestView | null> {
    const [r] = await this.all<ArRow>('select * from authority_requests where tenant = $1 and id = $2', [tenant, id]);
    return r && r.position <= asOf ? authorityView(r, asOf) : null;
  }

  async authorityRequestsById(tenant: string, ids: readonly string[], asOf = Number.MAX_SAFE_INTEGER): Promise<AuthorityRequestView[]> {
    if (ids.length === 0) return [];
    return (await this.all<ArRow>(`select r.* from ${lookUpEach({ k: '$2::text[]' }, 'r', 'select * from authority_requests where tenant = $1 and id = k and position <= $3 limit 1')}`, [tenant, [...new Set(ids)], asOf])).map((r) => authorityView(r, asOf));
  }

  async authorityRequests(tenant: string, afterPosition: number, limit: number) {
    return (await this.all<ArRow>('select * from authority_requests where tenant = $1 and position > $2 order by position limit $3', [tenant, afterPosition, limit])).map((r) => authorityView(r));
  }

  async authorityRequestsOf(tenant: string, subject: string, asOf = Number.MAX_SAFE_INTEGER) {
    return (await this.all<ArRow>(`select r.* from authority_request_subjects s join authority_requests r on r.tenant = s.tenant and r.id = s.id
      where s.tenant = $1 and s.subject = $2 and r.position <= $3 order by r.position`, [tenant, subject, asOf])).map((r) => authorityView(r, asOf));
  }

  async disclosuresUnder(tenant: string, request: string): Promise<number[]> {
    return (await this.all<{ position: number }>('select position from authority_disclosures where tenant = $1 and request = $2 order by position', [tenant, request])).map((r) => r.position);
  }

  async erasuresAfter(tenant: string, after: number): Promise<Array<{ subject: string; position: number }>> {
    return this.all(`select subject, completed_position as position from subject_requests where tenant = $1 and type = 'erasure' and outcome = 'fulfilled' and completed_position > $2
      union all select subject, position from forgotten_subjects where tenant = $1 and position > $2 order by position`, [tenant, after]);
  }

  async forgotten(tenant: string, subject: string): Promise<boolean> {
    return (await this.all('select 1 from forgotten_subjects where tenant = $1 and subject = $2', [tenant, subject])).length > 0;
  }

  async destroyedKeysAfter(tenant: string, position: number): Promise<Array<{ subject: string; category: string; position: number; recordedAt: string }>> {
    const rows = await this.all<{ subject: string; category: string; position: number; recordedAt: string }>('select subject, category, position, recorded_at as "recordedAt" from destroyed_keys where tenant = $1 and position > $2 order by position', [tenant, position]);
    return rows.map((d) => ({ ...d, recordedAt: show(d.recordedAt) }));
  }

  async destroyedKeys(tenant?: string, subject?: string): Promise<DestroyedKey[]> {
    const rows = await this.all<DestroyedKey>(`select tenant, subject, category, position, recorded_at as "recordedAt", reason, request, event_id as "eventId" from destroyed_keys
      where ($1::text is null or tenant = $1) and ($2::text is null or subject = $2) order by tenant, position`, [tenant ?? null, subject ?? null]);
    return rows.map((d) => ({ ...d, recordedAt: show(d.recordedAt) }));
  }
}
