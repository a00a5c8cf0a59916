import type { FindingFilter, StoredFinding } from './sqlite/sqlite-findings.js';

export type { FindingFilter, StoredFinding };

/** Findings in the order they were raised, filtered, after an id (paging). */
export interface FindingsReadModel {
  page(tenant: string, filter: FindingFilter, afterId: number, limit: number): Promise<StoredFinding[]>;
}
export const FINDINGS_READ_MODEL = Symbol('FindingsReadModel');
