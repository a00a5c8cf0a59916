import type { RetentionStatus } from './domain/subject-state.js';

export interface RetentionItem {
  readonly subject: string;
  readonly category: string;
  readonly system: string;
  readonly heldSince: string;
  /** The purposes it was collected, stored or used for (up to the moment asked). */
  readonly purposes: readonly string[];
  /** The latest of those purposes' deadlines; null: kept with no period. */
  readonly deadline: string | null;
  readonly status: RetentionStatus;
  /** The event that started the holding. */
  readonly openedBy?: string;
}

/** Holdings in force at a moment, with their deadline and status, after a holding id (paging). */
export interface RetentionReadModel {
  page(tenant: string, at: string, filter: { status?: RetentionStatus; subject?: string }, afterId: number, limit: number, dueSoonDays: number): Promise<Array<RetentionItem & { id: number }>>;
}
export const RETENTION_READ_MODEL = Symbol('RetentionReadModel');
