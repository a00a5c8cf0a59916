import type { ProcessingEntry } from '../ledger/domain/log-entry.js';

export interface AuditFilter {
  readonly subject?: string;
  readonly purpose?: string;
  readonly category?: string;
  readonly recipient?: string;
  readonly system?: string;
  readonly type?: string;
  /** occurredAt bounds, inclusive from, exclusive to (fixed-width ISO text). */
  readonly from?: string;
  readonly to?: string;
  /** Only events sent to a recipient (disclosed, or transferred to one); with `recipients`, to one of those. */
  readonly disclosures?: boolean;
  readonly recipients?: readonly string[];
  /** Only entries at or before this log position (`asOf`). */
  readonly through?: number;
}

export interface AuditRow {
  readonly position: number;
  readonly hash: string;
  readonly entry: ProcessingEntry;
}

/** Processing events of a tenant in log order, after a position, filtered without decrypting anything. */
export interface AuditTrailReadModel {
  page(tenant: string, filter: AuditFilter, afterPosition: number, limit: number): Promise<AuditRow[]>;
  /** The processing events at these log positions (those that are processing events), in log order. */
  at(tenant: string, positions: readonly number[]): Promise<AuditRow[]>;
}
export const AUDIT_TRAIL_READ_MODEL = Symbol('AuditTrailReadModel');
