/** One read of subject data, as the access log shows it. */
export interface AccessLogRow {
  readonly position: number;
  readonly eventId: string;
  readonly recordedAt: string;
  readonly actor: { readonly type: string; readonly id: string; readonly role?: string };
  readonly what: string;
  readonly subjects: readonly string[];
  readonly detail: Readonly<Record<string, unknown>>;
}

/** A combination of purpose, category, system, type, recipient and country seen in processing events. */
export interface ObservedProcessing {
  readonly purpose: string;
  readonly category: string;
  readonly system: string;
  readonly type: string;
  readonly recipient: string | null;
  readonly country: string | null;
  readonly mechanism: string | null;
  readonly firstPosition: number;
}

/** The read models behind the answers that are not the audit trail, the requests or the findings. */
export interface AnswersReadModel {
  /** The last log position recorded at or before `at` (fixed-width UTC text); -1 when none. */
  positionAt(tenant: string, at: string): Promise<number>;
  accessLog(tenant: string, filter: { subject?: string; from?: string; to?: string }, afterPosition: number, limit: number): Promise<AccessLogRow[]>;
  /** What processing was observed, recorded at or before log position `through`. */
  observed(tenant: string, through: number): Promise<ObservedProcessing[]>;
  /** Per purpose, how many distinct subjects (and of which kind: the subject id's prefix before `:`) were processed for it. */
  subjectCounts(tenant: string, through: number): Promise<Array<{ purpose: string; kind: string; subjects: number }>>;
}
export const ANSWERS_READ_MODEL = Symbol('AnswersReadModel');
