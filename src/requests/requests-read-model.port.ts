import type { SubjectRequestStatus } from './domain/requests.js';

export interface SubjectRequestView {
  readonly id: string;
  /** The log entry that recorded the request. */
  readonly eventId: string;
  readonly type: string;
  readonly subject: { readonly id: string };
  readonly receivedAt: string;
  readonly dueAt: string;
  readonly extended: boolean;
  readonly extensionReason?: string;
  readonly completedAt: string | null;
  readonly outcome: 'fulfilled' | 'rejected' | null;
  readonly reason?: string;
  readonly status: SubjectRequestStatus;
}

export interface AuthorityRequestView {
  readonly id: string;
  readonly authority: string;
  readonly reference: string;
  readonly legalBasis: string;
  readonly receivedAt: string;
  readonly subjects: ReadonlyArray<{ readonly id: string }>;
  readonly sealed: boolean;
  readonly decision: 'comply' | 'refuse' | null;
  readonly rationale: string | null;
  readonly decidedAt: string | null;
  readonly closedAt: string | null;
}

export interface RequestsReadModel {
  subjectRequest(tenant: string, id: string, at: string): SubjectRequestView | null;
  /** Subject requests with the given status at `at`, in order of receipt, after `afterPosition`. */
  subjectRequests(tenant: string, at: string, status: SubjectRequestStatus | undefined, afterPosition: number, limit: number): Array<SubjectRequestView & { position: number }>;
  authorityRequest(tenant: string, id: string): AuthorityRequestView | null;
  authorityRequests(tenant: string, afterPosition: number, limit: number): Array<AuthorityRequestView & { position: number }>;
}
export const REQUESTS_READ_MODEL = Symbol('RequestsReadModel');
