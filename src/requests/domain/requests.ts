import * as t from 'io-ts';
import { boundedArray, boundedString, oneOf, struct } from '../../common/kernel/codec.js';
import { Slug, Uuid } from '../../common/kernel/ids.js';
import { Instant } from '../../common/kernel/time.js';
import { addIso } from '../../compliance/domain/calendar.js';

export const SUBJECT_REQUEST_TYPES = ['access', 'erasure', 'rectification', 'restriction', 'objection', 'portability'] as const;
const SubjectRef = struct('a subject', { id: boundedString('a subject id', 256) });
const Reason = boundedString('a reason', 2000);

/** `POST …/subject-requests` */
export const SubjectRequestBody = struct('a subject request', { type: oneOf('a request type', SUBJECT_REQUEST_TYPES), subject: SubjectRef, receivedAt: Instant });
export const ExtendBody = struct('an extension', { reason: Reason });
export const CompleteBody = struct('a completion', { outcome: oneOf('an outcome', ['fulfilled', 'rejected'] as const) }, { reason: Reason });

/** `POST …/authority-requests` */
export const AuthorityRequestBody = struct('an authority request', {
  authority: Slug, reference: boundedString('a reference', 256), legalBasis: boundedString('a legal basis', 1000), receivedAt: Instant,
  subjects: boundedArray(SubjectRef, 0, 1000, 'subjects'),
}, { sealed: t.boolean });
export const DecideBody = struct('a decision', { decision: oneOf('a decision', ['comply', 'refuse'] as const), rationale: boundedString('a rationale', 4000) });

export type SubjectRequestBody = t.TypeOf<typeof SubjectRequestBody>;
export type AuthorityRequestBody = t.TypeOf<typeof AuthorityRequestBody>;

/** What the log records of requests (in the entries' `request` field). */
export const SubjectRequestReceived = struct('a received subject request', { id: Uuid, type: oneOf('a request type', SUBJECT_REQUEST_TYPES), subject: boundedString('a subject id', 256), receivedAt: Instant, dueAt: Instant });
export const SubjectRequestExtended = struct('an extended subject request', { id: Uuid, reason: Reason, dueAt: Instant });
export const SubjectRequestCompleted = struct('a completed subject request', { id: Uuid, outcome: oneOf('an outcome', ['fulfilled', 'rejected'] as const) }, { reason: Reason });
export const AuthorityRequestReceived = struct('a received authority request', {
  id: Uuid, authority: Slug, reference: boundedString('a reference', 256), legalBasis: boundedString('a legal basis', 1000), receivedAt: Instant,
  subjects: boundedArray(boundedString('a subject id', 256), 0, 1000, 'subjects'), sealed: t.boolean,
});
export const AuthorityRequestDecided = struct('a decided authority request', { id: Uuid, decision: oneOf('a decision', ['comply', 'refuse'] as const), rationale: boundedString('a rationale', 4000) });
export const AuthorityRequestRef = struct('an authority request', { id: Uuid });

/**
 * Art. 12(3): one month from receipt, a calendar month clamped to the end of a shorter one (31 Jan → 28
 * Feb); extended once by two further months.
 */
export const dueAtOf = (receivedAt: string): string => addIso(receivedAt, 'P1M').toISOString();
export const extendedDueAt = (receivedAt: string): string => addIso(receivedAt, 'P3M').toISOString();

export type SubjectRequestStatus = 'open' | 'overdue' | 'completed';

/** A request's status at `at` (fixed-width UTC text): completed once completed by then, overdue past its due date. */
export function subjectRequestStatus(r: { dueAt: string; completedAt: string | null }, at: string): SubjectRequestStatus {
  if (r.completedAt !== null && r.completedAt <= at) return 'completed';
  return at >= r.dueAt ? 'overdue' : 'open';
}
