import type { Finding } from '../../compliance/domain/finding.js';

export interface RecordResult {
  readonly eventId: string;
  readonly status: 'recorded' | 'duplicate';
  readonly position: number;
  readonly hash: string;
  readonly findings: readonly Finding[];
}

/** Why an append was refused; each maps to one HTTP status and one gRPC status. */
export type AppendRefusal =
  | { readonly _tag: 'UnknownTenant'; readonly tenant: string }
  | { readonly _tag: 'ConflictingDuplicate'; readonly eventIds: readonly string[] }
  | { readonly _tag: 'StoreUnavailable'; readonly reason: string }
  | { readonly _tag: 'ShuttingDown' };
