import { formatInstant } from '../common/kernel/time.js';
import { dueAtOf, subjectRequestStatus, type SubjectRequestStatus } from './domain/requests.js';
import type { AuthorityRequestView, SubjectRequestView } from './requests-read-model.port.js';

/** The rows of `subject_requests` and `authority_requests` (SQLite and PostgreSQL alike, positions as numbers) and the views made of them. */
export interface SrRow {
  id: string; event_id: string; type: string; subject: string; received_at: string; due_at: string; extended_reason: string | null; extended_position: number | null;
  completed_at: string | null; completed_position: number | null; outcome: 'fulfilled' | 'rejected' | null; reason: string | null; position: number;
}
export interface ArRow {
  id: string; authority: string; reference: string; legal_basis: string; received_at: string; subjects: string | string[]; sealed: number | boolean; decision: 'comply' | 'refuse' | null;
  rationale: string | null; decided_at: string | null; decided_position: number | null; closed_at: string | null; closed_position: number | null; unsealed_position: number | null; position: number;
}

/** Stored times are fixed-width for ordering; answers show them as RFC 3339 like every other time. */
export const show = (s: string) => formatInstant(new Date(s));
const showOrNull = (s: string | null) => (s === null ? null : show(s));
/** Whether a change recorded at `position` (null: never) had happened by log position `asOf`. */
const by = (position: number | null, asOf: number) => position !== null && position <= asOf;

/** A subject request as it stood once the log reached `asOf`, its status at the time `at` (fixed-width text like every stored time). */
export const subjectView = (r: SrRow, at: string, asOf = Infinity): SubjectRequestView & { position: number } => {
  const extended = by(r.extended_position, asOf);
  const completed = by(r.completed_position, asOf);
  const completedAt = completed ? r.completed_at : null;
  const dueAt = extended ? r.due_at : dueAtOf(show(r.received_at));
  return {
    id: r.id, eventId: r.event_id, type: r.type, subject: { id: r.subject }, receivedAt: show(r.received_at), dueAt: show(dueAt), extended,
    ...(extended ? { extensionReason: r.extended_reason! } : {}),
    completedAt: showOrNull(completedAt), outcome: completed ? r.outcome : null, ...(completed && r.reason !== null ? { reason: r.reason } : {}),
    status: subjectRequestStatus({ dueAt, completedAt }, at),
    position: r.position,
  };
};

export const authorityView = (r: ArRow, asOf = Infinity): AuthorityRequestView & { position: number } => {
  const decided = by(r.decided_position, asOf);
  return {
    id: r.id, authority: r.authority, reference: r.reference, legalBasis: r.legal_basis, receivedAt: show(r.received_at),
    subjects: (typeof r.subjects === 'string' ? (JSON.parse(r.subjects) as string[]) : r.subjects).map((id) => ({ id })), sealed: (r.sealed === 1 || r.sealed === true) && !by(r.unsealed_position, asOf),
    decision: decided ? r.decision : null, rationale: decided ? r.rationale : null, decidedAt: decided ? showOrNull(r.decided_at) : null,
    closedAt: by(r.closed_position, asOf) ? showOrNull(r.closed_at) : null, position: r.position,
  };
};


/** Rows of `subject_requests` read at a time when listing them by status. */
export const SUBJECT_REQUESTS_PAGE = 500;

/**
 * Adds to `out`, up to `limit`, the requests of `rows` (a page in log order) received by `at` and with
 * `status` there (any, when none is given); answers the position to read on from, or null when done.
 */
export function collectSubjectRequests(rows: readonly SrRow[], at: string, status: SubjectRequestStatus | undefined, limit: number, out: Array<SubjectRequestView & { position: number }>): number | null {
  for (const r of rows) {
    if (r.received_at > at) continue;
    const v = subjectView(r, at);
    if (!status || v.status === status) out.push(v);
    if (out.length === limit) return null;
  }
  return rows.length < SUBJECT_REQUESTS_PAGE ? null : rows[rows.length - 1]!.position;
}
