import type { Finding, FindingCode, Severity } from './domain/finding.js';

export interface StoredFinding extends Finding {
  readonly id: number;
  readonly eventId: string;
  readonly position: number;
  readonly subject: string | null;
  readonly occurredAt: string | null;
  readonly recordedAt: string;
}

export interface FindingFilter {
  readonly code?: FindingCode;
  readonly severity?: Severity;
  readonly subject?: string;
  /** occurredAt bounds (fixed-width UTC text), inclusive from, exclusive to. */
  readonly from?: string;
  readonly to?: string;
}

/** Findings in the order they were raised, filtered, after an id (paging). */
export interface FindingsReadModel {
  page(tenant: string, filter: FindingFilter, afterId: number, limit: number): Promise<StoredFinding[]>;
}
export const FINDINGS_READ_MODEL = Symbol('FindingsReadModel');
