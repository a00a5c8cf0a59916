import type { Db } from '../../common/sqlite/open-database.js';
import { formatInstant } from '../../common/kernel/time.js';
import { subjectRequestStatus, type SubjectRequestStatus } from '../domain/requests.js';
import type { AuthorityRequestView, RequestsReadModel, SubjectRequestView } from '../requests-read-model.port.js';
import { REQUESTS_SCHEMA } from './requests-projection.js';

interface SrRow { id: string; event_id: string; type: string; subject: string; received_at: string; due_at: string; extended_reason: string | null; completed_at: string | null; outcome: 'fulfilled' | 'rejected' | null; reason: string | null; position: number }
interface ArRow { id: string; authority: string; reference: string; legal_basis: string; received_at: string; subjects: string; sealed: number; decision: 'comply' | 'refuse' | null; rationale: string | null; decided_at: string | null; closed_at: string | null; position: number }

/** Stored times are fixed-width for ordering; answers show them as RFC 3339 like every other time. */
const show = (s: string) => formatInstant(new Date(s));
const showOrNull = (s: string | null) => (s === null ? null : show(s));

const subjectView = (r: SrRow, at: string): SubjectRequestView & { position: number } => ({
  id: r.id, eventId: r.event_id, type: r.type, subject: { id: r.subject }, receivedAt: show(r.received_at), dueAt: show(r.due_at), extended: r.extended_reason !== null,
  ...(r.extended_reason !== null ? { extensionReason: r.extended_reason } : {}),
  completedAt: showOrNull(r.completed_at), outcome: r.outcome, ...(r.reason !== null ? { reason: r.reason } : {}),
  status: subjectRequestStatus({ dueAt: r.due_at, completedAt: r.completed_at }, at), position: r.position,
});

const authorityView = (r: ArRow): AuthorityRequestView & { position: number } => ({
  id: r.id, authority: r.authority, reference: r.reference, legalBasis: r.legal_basis, receivedAt: show(r.received_at),
  subjects: (JSON.parse(r.subjects) as string[]).map((id) => ({ id })), sealed: r.sealed === 1, decision: r.decision, rationale: r.rationale,
  decidedAt: showOrNull(r.decided_at), closedAt: showOrNull(r.closed_at), position: r.position,
});

export class SqliteRequestsReadModel implements RequestsReadModel {
  private readonly s;

  constructor(db: Db) {
    db.exec(REQUESTS_SCHEMA);
    this.s = {
      one: db.prepare('select * from subject_requests where tenant = ? and id = ?'),
      after: db.prepare('select * from subject_requests where tenant = ? and position > ? order by position limit ?'),
      ar: db.prepare('select * from authority_requests where tenant = ? and id = ?'),
      ars: db.prepare('select * from authority_requests where tenant = ? and position > ? order by position limit ?'),
    };
  }

  subjectRequest(tenant: string, id: string, at: string) {
    const r = this.s.one.get(tenant, id) as SrRow | undefined;
    return r ? subjectView(r, at) : null;
  }

  subjectRequests(tenant: string, at: string, status: SubjectRequestStatus | undefined, afterPosition: number, limit: number) {
    const out: Array<SubjectRequestView & { position: number }> = [];
    for (let after = afterPosition; out.length < limit;) {
      const rows = this.s.after.all(tenant, after, 500) as SrRow[];
      for (const r of rows) {
        if (r.received_at > at) continue;
        const v = subjectView(r, at);
        if (!status || v.status === status) out.push(v);
        if (out.length === limit) break;
      }
      if (rows.length < 500) break;
      after = rows[rows.length - 1]!.position;
    }
    return out;
  }

  authorityRequest(tenant: string, id: string) {
    const r = this.s.ar.get(tenant, id) as ArRow | undefined;
    return r ? authorityView(r) : null;
  }

  authorityRequests(tenant: string, afterPosition: number, limit: number) {
    return (this.s.ars.all(tenant, afterPosition, limit) as ArRow[]).map(authorityView);
  }
}
