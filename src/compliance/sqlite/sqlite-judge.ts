import type { Db } from '../../common/sqlite/open-database.js';
import type { PurposeBody, RecipientBody, SystemBody } from '../../declarations/domain/declaration.js';
import { REQUESTS_SCHEMA } from '../../requests/sqlite/requests-projection.js';
import type { Finding } from '../domain/finding.js';
import { authorityRequestAt, judge, needs, type Fact, type Policy } from '../domain/rules.js';
import { applyFact, subjectFacts } from '../domain/subject-state.js';
import { SqliteSubjectStore } from './sqlite-subject-records.js';
import type { ActivityIndex } from './activity-index.js';

/**
 * Judges facts against the declarations in force and the subject's state in `ledger.db`. With `cached`,
 * declarations and residencies are kept in memory; whoever writes them must call `forget`.
 */
export class SqliteJudge {
  readonly subjects: SqliteSubjectStore;
  private readonly s;
  private readonly cache = new Map<string, unknown>();

  constructor(db: Db, private readonly cached: boolean, activity?: ActivityIndex) {
    this.subjects = new SqliteSubjectStore(db, activity, cached);
    db.exec(REQUESTS_SCHEMA);
    this.s = {
      declaration: db.prepare('select body from declarations where tenant = ? and kind = ? and id = ? order by version desc limit 1').pluck(),
      residency: db.prepare('select residency from tenants where id = ?').pluck(),
      authorityRequest: db.prepare('select authority, decision, position, decided_position from authority_requests where tenant = ? and id = ?'),
    };
  }

  forget(key?: string): void {
    if (key === undefined) {
      this.cache.clear();
      this.subjects.forget();
    } else this.cache.delete(key);
  }

  static key = (tenant: string, kind: string, id: string) => `${tenant}\u0000${kind}\u0000${id}`;

  private memo<T>(key: string, load: () => T): T {
    if (!this.cached) return load();
    if (!this.cache.has(key)) this.cache.set(key, load());
    return this.cache.get(key) as T;
  }

  declared<B>(tenant: string, kind: 'purposes' | 'systems' | 'recipients', id: string): B | null {
    return this.memo(SqliteJudge.key(tenant, kind, id), () => {
      const body = this.s.declaration.get(tenant, kind, id) as string | undefined;
      return body === undefined ? null : (JSON.parse(body) as B);
    });
  }

  residency(tenant: string): string[] {
    return this.memo(SqliteJudge.key(tenant, 'tenant', ''), () => JSON.parse((this.s.residency.get(tenant) as string | undefined) ?? '["EEA"]') as string[]);
  }

  /**
   * The findings `fact` raises now (recorded at log position `position`: what was recorded after it, a
   * decision on its authority request, does not count); with `fold`, the fact is then folded into the subject's state.
   */
  judge(tenant: string, fact: Fact, fold: boolean, position = Infinity): Finding[] {
    const recipientId = typeof fact.details?.recipient === 'string' ? fact.details.recipient : null;
    const policy: Policy = {
      residency: this.residency(tenant),
      purpose: this.declared<PurposeBody>(tenant, 'purposes', fact.purpose),
      system: this.declared<SystemBody>(tenant, 'systems', fact.system),
      recipient: recipientId ? this.declared<RecipientBody>(tenant, 'recipients', recipientId) : null,
    };
    const arId = fact.type === 'disclosed' && typeof fact.details?.authorityRequestId === 'string' ? fact.details.authorityRequestId : null;
    const ar = arId ? authorityRequestAt(this.s.authorityRequest.get(tenant, arId) as Parameters<typeof authorityRequestAt>[0], position) : null;
    const records = this.subjects.records(tenant, fact.subject);
    const found = judge(fact, policy, subjectFacts(records, fact, (p) => this.declared<PurposeBody>(tenant, 'purposes', p), ar, needs(fact, policy)));
    if (fold) applyFact(records, fact);
    return found;
  }
}
