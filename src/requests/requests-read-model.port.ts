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
  subjectRequest(tenant: string, id: string, at: string): Promise<SubjectRequestView | null>;
  /** Subject requests with the given status at `at`, in order of receipt, after `afterPosition`. */
  subjectRequests(tenant: string, at: string, status: SubjectRequestStatus | undefined, afterPosition: number, limit: number): Promise<Array<SubjectRequestView & { position: number }>>;
  /** An authority request as it stood at log position `asOf` (default: now); null if unknown then. */
  authorityRequest(tenant: string, id: string, asOf?: number): Promise<AuthorityRequestView | null>;
  /** Those of the authority requests `ids` known at log position `asOf` (default: now), as they stood then; in no particular order. */
  authorityRequestsById(tenant: string, ids: readonly string[], asOf?: number): Promise<AuthorityRequestView[]>;
  authorityRequests(tenant: string, afterPosition: number, limit: number): Promise<Array<AuthorityRequestView & { position: number }>>;
  /** The subject's requests recorded at or before log position `asOf` (default: all), as they stood then; statuses at `at`. */
  subjectRequestsOf(tenant: string, subject: string, at: string, asOf?: number): Promise<Array<SubjectRequestView & { position: number }>>;
  /** Authority requests naming the subject, recorded at or before `asOf`, as they stood then (sealed or not). */
  authorityRequestsOf(tenant: string, subject: string, asOf?: number): Promise<Array<AuthorityRequestView & { position: number }>>;
  /** Log positions of the disclosures made under an authority request. */
  disclosuresUnder(tenant: string, request: string): Promise<number[]>;
  /** Subjects erased as a whole (a fulfilled erasure request completed, or `pdl forget`) after log position `after`, with the position. */
  erasuresAfter(tenant: string, after: number): Promise<Array<{ subject: string; position: number }>>;
  /** Whether the subject was forgotten as a whole (`pdl forget`). */
  forgotten(tenant: string, subject: string): Promise<boolean>;
  /** The keys destroyed (of the subject, or of every subject), in log order. */
  destroyedKeys(tenant?: string, subject?: string): Promise<DestroyedKey[]>;
  /** The keys whose destruction the tenant's log recorded after `position`, in log order. */
  destroyedKeysAfter(tenant: string, position: number): Promise<Array<{ subject: string; category: string; position: number; recordedAt: string }>>;
}

export interface DestroyedKey {
  readonly tenant: string;
  readonly subject: string;
  readonly category: string;
  readonly position: number;
  readonly recordedAt: string;
  readonly reason: string;
  readonly request: string | null;
  /** The `key-destroyed` entry (for its inclusion proof). */
  readonly eventId: string;
}
export const REQUESTS_READ_MODEL = Symbol('RequestsReadModel');
