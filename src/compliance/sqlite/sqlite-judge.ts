import type { Statement } from 'better-sqlite3';
import type { Db } from '../../common/sqlite/open-database.js';
import type { PurposeBody, RecipientBody, SystemBody } from '../../declarations/domain/declaration.js';
import { REQUESTS_SCHEMA } from '../../requests/sqlite/requests-projection.js';
import type { Finding } from '../domain/finding.js';
import { authorityRequestAt, judge, needs, type Fact, type Policy } from '../domain/rules.js';
import { applyFact, subjectFacts } from '../domain/subject-state.js';
import { KEPT_SUBJECTS, SqliteSubjectStore } from './sqlite-subject-records.js';
import { tenantStream } from '../../ledger/domain/streams.js';
import { residencyDeclaredIn } from '../../ledger/entry-of.js';
import { DEFAULT_RESIDENCY } from '../../tenancy/domain/tenant.js';
import type { ActivityIndex } from './activity-index.js';

/**
 * Judges facts against the declarations in force and the subject's state in `ledger.db`. With `cached`,
 * declarations and residencies are kept in memory; whoever writes them must call `forget`.
 */
export class SqliteJudge {
  readonly subjects: SqliteSubjectStore;
  private readonly s;
  /**
   * Declarations and residencies kept (see `kept`): tenant → kind → id → value. Nested, so that a look-up
   * builds no key string (four or five look-ups an event, each with a key string made and hashed: ~7% of
   * the compliance engine's part of the demo ledger's rebuild).
   */
  private readonly cache = new Map<string, Map<string, Map<string, unknown>>>();

  /** Prepared when first needed: the projections are also made on a scratch database without the log. */
  private tenantDeclared: Statement<unknown[]> | null = null;

  constructor(private readonly db: Db, private readonly cached: boolean, activity?: ActivityIndex) {
    this.subjects = new SqliteSubjectStore(db, activity, cached ? KEPT_SUBJECTS : 0);
    db.exec(REQUESTS_SCHEMA);
    this.s = {
      declaration: db.prepare('select body from declarations where tenant = ? and kind = ? and id = ? and position < ? order by version desc limit 1').pluck(),
      residency: db.prepare('select residency, position from tenants where id = ?'),
      authorityRequest: db.prepare('select authority, decision, position, decided_position from authority_requests where tenant = ? and id = ?'),
    };
  }

  /** Forgets everything kept (a commit failed). */
  forget(): void {
    this.cache.clear();
    this.subjects.forget();
  }

  /** Forgets what is kept of `tenant`'s declaration `kind`/`id`, or with `kind` `tenant`, of its residency (declared again). */
  forgetDeclared(tenant: string, kind: 'purposes' | 'systems' | 'recipients' | 'tenant', id = ''): void {
    this.cache.get(tenant)?.get(kind)?.delete(id);
  }

  /**
   * What is kept of `tenant`'s `kind` when `cached` (null when not): a value read for an event stays the
   * one in force for the events after it until a commit re-declares it (which calls `forgetDeclared`, in log
   * order, also within a rebuild's batch). What is kept is never `undefined` (a missing declaration is `null`).
   */
  private kept(tenant: string, kind: string): Map<string, unknown> | null {
    if (!this.cached) return null;
    let kinds = this.cache.get(tenant);
    if (!kinds) this.cache.set(tenant, (kinds = new Map()));
    let ids = kinds.get(kind);
    if (!ids) kinds.set(kind, (ids = new Map()));
    return ids;
  }

  /** The declaration in force just before log position `before` (the latest version recorded before it). */
  declared<B>(tenant: string, kind: 'purposes' | 'systems' | 'recipients', id: string, before = Number.MAX_SAFE_INTEGER): B | null {
    const kept = this.kept(tenant, kind);
    const found = kept?.get(id) as B | null | undefined;
    if (found !== undefined) return found;
    const body = this.s.declaration.get(tenant, kind, id, before) as string | undefined;
    const value = body === undefined ? null : (JSON.parse(body) as B);
    kept?.set(id, value);
    return value;
  }

  /** The tenant's residency just before log position `before`. */
  residency(tenant: string, before = Number.MAX_SAFE_INTEGER): readonly string[] {
    const kept = this.kept(tenant, 'tenant');
    const found = kept?.get('') as readonly string[] | undefined;
    if (found !== undefined) return found;
    const value = this.residencyAt(tenant, before);
    kept?.set('', value);
    return value;
  }

  private residencyAt(tenant: string, before: number): readonly string[] {
    const row = this.s.residency.get(tenant) as { residency: string; position: number } | undefined;
    if (!row) return DEFAULT_RESIDENCY;
    if (row.position < before) return JSON.parse(row.residency) as string[];
    // Declared again after `before` (a rebuild folds a batch whose later entries are already in the
    // tenants table): the settings in force then are those of the tenant's previous declaration.
    this.tenantDeclared ??= this.db.prepare("select data from events where stream = ? and type = 'tenant-declared' and revision < ? order by revision desc limit 1").pluck();
    return residencyDeclaredIn(this.tenantDeclared.get(tenantStream(tenant), before) as Buffer | undefined);
  }

  /**
   * The findings `fact` raises now (recorded at log position `position`: what was recorded after it, a
   * decision on its authority request, does not count); with `fold`, the fact is then folded into the subject's state.
   */
  judge(tenant: string, fact: Fact, fold: boolean, position = Number.MAX_SAFE_INTEGER): Finding[] {
    const recipientId = typeof fact.details?.recipient === 'string' ? fact.details.recipient : null;
    const policy: Policy = {
      residency: this.residency(tenant, position),
      purpose: this.declared<PurposeBody>(tenant, 'purposes', fact.purpose, position),
      system: this.declared<SystemBody>(tenant, 'systems', fact.system, position),
      recipient: recipientId ? this.declared<RecipientBody>(tenant, 'recipients', recipientId, position) : null,
    };
    const arId = fact.type === 'disclosed' && typeof fact.details?.authorityRequestId === 'string' ? fact.details.authorityRequestId : null;
    const ar = arId ? authorityRequestAt(this.s.authorityRequest.get(tenant, arId) as Parameters<typeof authorityRequestAt>[0], position) : null;
    const records = this.subjects.records(tenant, fact.subject);
    const found = judge(fact, policy, subjectFacts(records, fact, (p) => this.declared<PurposeBody>(tenant, 'purposes', p, position), ar, needs(fact, policy)));
    if (fold) applyFact(records, fact);
    return found;
  }
}
