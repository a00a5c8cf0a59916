import type { Db } from '../../common/sqlite/open-database.js';
import type { SubjectRequestStatus } from '../domain/requests.js';
import { authorityView, collectSubjectRequests, show, SUBJECT_REQUESTS_PAGE, subjectView, type ArRow, type SrRow } from '../request-views.js';
import type { DestroyedKey, RequestsReadModel, SubjectRequestView } from '../requests-read-model.port.js';
import { REQUESTS_SCHEMA } from './requests-projection.js';
import type { Synchronous } from '../../common/kernel/promised.js';

export class SqliteRequestsReadModel implements Synchronous<RequestsReadModel> {
  private readonly s;

  constructor(db: Db) {
    db.exec(REQUESTS_SCHEMA);
    this.s = {
      one: db.prepare('select * from subject_requests where tenant = ? and id = ?'),
      after: db.prepare('select * from subject_requests where tenant = ? and position > ? order by position limit ?'),
      ofSubject: db.prepare('select * from subject_requests where tenant = ? and subject = ? and position <= ? order by position'),
      ar: db.prepare('select * from authority_requests where tenant = ? and id = ?'),
      ars: db.prepare('select * from authority_requests where tenant = ? and position > ? order by position limit ?'),
      arsOfSubject: db.prepare(`select r.* from authority_request_subjects s join authority_requests r on r.tenant = s.tenant and r.id = s.id
        where s.tenant = ? and s.subject = ? and r.position <= ? order by r.position`),
      disclosures: db.prepare('select position from authority_disclosures where tenant = ? and request = ? order by position').pluck(),
      forgotten: db.prepare('select 1 from forgotten_subjects where tenant = ? and subject = ?').pluck(),
      erasuresAfter: db.prepare(`select subject, completed_position as position from subject_requests where tenant = ? and type = 'erasure' and outcome = 'fulfilled' and completed_position > ?
        union all select subject, position from forgotten_subjects where tenant = ? and position > ? order by position`),
      destroyedAfter: db.prepare('select subject, category, position, recorded_at as recordedAt from destroyed_keys where tenant = ? and position > ? order by position'),
      destroyed: db.prepare(`select tenant, subject, category, position, recorded_at as recordedAt, reason, request, event_id as eventId from destroyed_keys
        where (? is null or tenant = ?) and (? is null or subject = ?) order by tenant, position`),
    };
  }

  subjectRequest(tenant: string, id: string, at: string) {
    const r = this.s.one.get(tenant, id) as SrRow | undefined;
    return r ? subjectView(r, at) : null;
  }

  subjectRequests(tenant: string, at: string, status: SubjectRequestStatus | undefined, afterPosition: number, limit: number) {
    const out: Array<SubjectRequestView & { position: number }> = [];
    for (let after: number | null = afterPosition; after !== null && out.length < limit;) {
      after = collectSubjectRequests(this.s.after.all(tenant, after, SUBJECT_REQUESTS_PAGE) as SrRow[], at, status, limit, out);
    }
    return out;
  }

  subjectRequestsOf(tenant: string, subject: string, at: string, asOf = Number.MAX_SAFE_INTEGER) {
    return (this.s.ofSubject.all(tenant, subject, asOf) as SrRow[]).map((r) => subjectView(r, at, asOf));
  }

  authorityRequest(tenant: string, id: string, asOf = Number.MAX_SAFE_INTEGER) {
    const r = this.s.ar.get(tenant, id) as ArRow | undefined;
    return r && r.position <= asOf ? authorityView(r, asOf) : null;
  }

  authorityRequestsById(tenant: string, ids: readonly string[], asOf = Number.MAX_SAFE_INTEGER) {
    return [...new Set(ids)].flatMap((id) => this.authorityRequest(tenant, id, asOf) ?? []);
  }

  authorityRequests(tenant: string, afterPosition: number, limit: number) {
    return (this.s.ars.all(tenant, afterPosition, limit) as ArRow[]).map((r) => authorityView(r));
  }

  authorityRequestsOf(tenant: string, subject: string, asOf = Number.MAX_SAFE_INTEGER) {
    return (this.s.arsOfSubject.all(tenant, subject, asOf) as ArRow[]).map((r) => authorityView(r, asOf));
  }

  disclosuresUnder(tenant: string, request: string): number[] {
    return this.s.disclosures.all(tenant, request) as number[];
  }

  erasuresAfter(tenant: string, after: number): Array<{ subject: string; position: number }> {
    return this.s.erasuresAfter.all(tenant, after, tenant, after) as Array<{ subject: string; position: number }>;
  }

  forgotten(tenant: string, subject: string): boolean {
    return this.s.forgotten.get(tenant, subject) !== undefined;
  }

  destroyedKeysAfter(tenant: string, position: number): Array<{ subject: string; category: string; position: number; recordedAt: string }> {
    return (this.s.destroyedAfter.all(tenant, position) as Array<{ subject: string; category: string; position: number; recordedAt: string }>).map((d) => ({ ...d, recordedAt: show(d.recordedAt) }));
  }

  destroyedKeys(tenant?: string, subject?: string): DestroyedKey[] {
    return (this.s.destroyed.all(tenant ?? null, tenant ?? null, subject ?? null, subject ?? null) as DestroyedKey[]).map((d) => ({ ...d, recordedAt: show(d.recordedAt) }));
  }
}
