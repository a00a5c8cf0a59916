import { formatInstant, sortableInstant } from '../../common/kernel/time.js';
import { shredPlan, type ShredStep } from '../../keys/domain/shredding.js';
import type { PurposeBody } from '../../declarations/domain/declaration.js';
import { holdingStatus, type RetentionStatus } from '../domain/subject-state.js';
import type { RetentionItem, RetentionReadModel } from '../retention-read-model.port.js';
import type { ComplianceStateReader } from '../compliance-state.port.js';
import { erasureStatus, type SystemErasure } from '../domain/erasure.js';
import type { SqliteSubjectStore } from './sqlite-subject-records.js';
import type { SqliteJudge } from './sqlite-judge.js';
import type { Synchronous } from '../../common/kernel/promised.js';

const BATCH = 500;

/** What is held at any moment, until when, and what is overdue, from the compliance state in `ledger.db`. */
export class SqliteRetention implements Synchronous<RetentionReadModel>, Synchronous<ComplianceStateReader> {
  private readonly subjects: SqliteSubjectStore;

  /** Reads the subjects' state and the purposes in force through `judge` (a reader's, without caches). */
  constructor(private readonly judge: SqliteJudge) {
    this.subjects = judge.subjects;
  }

  erasureStatus(tenant: string, subject: string, at: string): SystemErasure[] {
    const records = this.subjects.records(tenant, subject);
    return erasureStatus(this.subjects.subjectHoldings(tenant, subject), at, this.lookup(tenant), (t) => records.lastActivity(t))
      .map((s) => (s.status === 'held' ? { ...s, until: formatInstant(new Date(s.until)) } : s));
  }

  shredPlan(tenant: string, subject: string, categories: readonly string[], at: string, whole: 'erasure-request' | 'subject-forgotten' | null, heldBefore: ReadonlySet<string>): ShredStep[] {
    const records = this.subjects.records(tenant, subject);
    return shredPlan(categories, this.subjects.subjectHoldings(tenant, subject), at, this.lookup(tenant), (t) => records.lastActivity(t), whole, heldBefore)
      .map((s) => (s.action === 'hold' ? { ...s, until: sortableInstant(s.until) } : s));
  }

  private lookup(tenant: string) {
    const purposes = new Map<string, PurposeBody | null>();
    return (p: string) => {
      if (!purposes.has(p)) purposes.set(p, this.judge.declared<PurposeBody>(tenant, 'purposes', p));
      return purposes.get(p)!;
    };
  }

  page(tenant: string, at: string, filter: { status?: RetentionStatus; subject?: string }, afterId: number, limit: number, dueSoonDays: number): Array<RetentionItem & { id: number }> {
    const lookup = this.lookup(tenant);
    const out: Array<RetentionItem & { id: number }> = [];
    for (let after = afterId; out.length < limit;) {
      const batch = this.subjects.holdingsAt(tenant, at, after, BATCH, filter.subject);
      for (const { id, subject, holding } of batch) {
        const s = holdingStatus(this.subjects.records(tenant, subject), holding, at, lookup, dueSoonDays);
        if (!s || (filter.status && s.status !== filter.status)) continue;
        out.push({
          id, subject, category: holding.category, system: holding.system, heldSince: formatInstant(new Date(holding.from)),
          ...(holding.openedBy ? { openedBy: holding.openedBy } : {}),
          purposes: [...holding.purposes.keys()].sort(), deadline: s.deadline === null ? null : formatInstant(new Date(s.deadline)), status: s.status,
        });
        if (out.length === limit) break;
      }
      if (batch.length < BATCH) break;
      after = batch[batch.length - 1]!.id;
    }
    return out;
  }
}
