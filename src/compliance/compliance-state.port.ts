import type { SystemErasure } from './domain/erasure.js';
import type { ShredStep } from '../keys/domain/shredding.js';
import type { Finding } from './domain/finding.js';
import type { Fact } from './domain/rules.js';

/** Questions about a subject's compliance state, asked by the request workflows. */
export interface ComplianceStateReader {
  /** Per system that ever held the subject's data: erased, held under a legal minimum, or pending. */
  erasureStatus(tenant: string, subject: string, at: string): Promise<SystemErasure[]>;
  /** What to do with the keys of `categories` of the subject at `at` (see `shredPlan`). */
  shredPlan(tenant: string, subject: string, categories: readonly string[], at: string, whole: 'erasure-request' | 'subject-forgotten' | null, heldBefore: ReadonlySet<string>): Promise<ShredStep[]>;
}
export const COMPLIANCE_STATE = Symbol('ComplianceStateReader');

/** Judges a proposed action against the declarations in force and the subject's current state. */
export interface DecisionJudge {
  judge(tenant: string, fact: Fact): Promise<Finding[]>;
}
export const DECISION_JUDGE = Symbol('DecisionJudge');

/** Writes out what the store defers (indexes written after their commits), before reads that need all of it. */
export type FlushDeferred = () => Promise<void>;
export const FLUSH_DEFERRED = Symbol('FlushDeferred');
