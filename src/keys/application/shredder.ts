import { Inject, Injectable } from '@nestjs/common';
import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { AUDIT_TRAIL_READ_MODEL, type AuditTrailReadModel } from '../../audit-trail/audit-trail-read-model.port.js';
import { CLOCK, ID_GENERATOR } from '../../common/application/tokens.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import type { IdGenerator } from '../../common/kernel/ids.js';
import { sortableInstant, type Clock } from '../../common/kernel/time.js';
import { COMPLIANCE_STATE, FLUSH_DEFERRED, type ComplianceStateReader, type FlushDeferred } from '../../compliance/compliance-state.port.js';
import { LedgerWriter } from '../../ledger/application/ledger-writer.js';
import type { DraftEntry } from '../../ledger/domain/log-entry.js';
import { REQUESTS_READ_MODEL, type RequestsReadModel } from '../../requests/requests-read-model.port.js';
import { KEY_STORE } from '../../storage/storage.tokens.js';
import type { IndexEntry, KeyStore, SubjectKeys } from '../key-store.port.js';
import type { ShredStep } from '../domain/shredding.js';
import { IdentifierVault, type KeyMemo } from './identifier-vault.js';
import type { LogMarks } from './log-marks.js';

const LEDGER = { type: 'ledger', id: 'retention' } as const;
const PAGE = 1000;
/** Subjects shredded per commit when many are (a sweep, an enforcement). */
const GROUP = 500;

/**
 * Crypto-shredding: forgets a subject's values for real by destroying the keys they are sealed under,
 * once the law allows (see `shredPlan`). For each key it destroys, a `key-destroyed` fact enters the log
 * first (durably); then the key and the blind-index entries of its values go (their HMACs computed
 * while the key still opens them). Keys under a legal hold are kept, with their hold, and destroyed
 * when it ends (`enforce`). A crash between the fact and the destruction is finished at start-up
 * (`reconcile`). Every step is idempotent.
 */
@Injectable()
export class Shredder {
  constructor(
    @Inject(KEY_STORE) private readonly keys: KeyStore,
    @Inject(COMPLIANCE_STATE) private readonly state: ComplianceStateReader,
    @Inject(REQUESTS_READ_MODEL) private readonly requests: RequestsReadModel,
    @Inject(AUDIT_TRAIL_READ_MODEL) private readonly trail: AuditTrailReadModel,
    @Inject(FLUSH_DEFERRED) private readonly flush: FlushDeferred,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
    private readonly vault: IdentifierVault,
    private readonly writer: LedgerWriter,
  ) {}

  /** Whether the subject as a whole is to be erased, and why. */
  private async whole(tenant: string, subject: string): Promise<'erasure-request' | 'subject-forgotten' | null> {
    if (await this.requests.forgotten(tenant, subject)) return 'subject-forgotten';
    const done = await this.requests.subjectRequestsOf(tenant, subject, sortableInstant(this.clock.now()));
    return done.some((r) => r.type === 'erasure' && r.outcome === 'fulfilled') ? 'erasure-request' : null;
  }

  /** Destroys what may go of the subject's keys at `at` (default now), and records what is held until when. */
  async forget(tenant: string, subject: string, at: string = sortableInstant(this.clock.now()), request?: string): Promise<Either<DomainError, ShredStep[]>> {
    const done = await this.forgetAll(tenant, [subject], at, request);
    return done._tag === 'Left' ? done : right(done.right.get(subject) ?? []);
  }

  /** `forget` for several subjects of a tenant at once: one commit for their facts, one for their keys. */
  async forgetAll(tenant: string, subjects: readonly string[], at: string = sortableInstant(this.clock.now()), request?: string): Promise<Either<DomainError, Map<string, ShredStep[]>>> {
    const plans = new Map<string, ShredStep[]>();
    const live = new Map<string, string[]>();
    for (const subject of new Set(subjects)) {
      const categories = (await this.keys.liveKeys(tenant, subject)).map((k) => k.category);
      if (categories.length) live.set(subject, categories);
    }
    if (live.size === 0) return right(plans);
    await this.flush();
    const holds = await this.keys.holds(tenant);
    const facts: DraftEntry[] = [];
    const doomed: SubjectKeys[] = [];
    for (const [subject, categories] of live) {
      const heldBefore = new Set(holds.filter((h) => h.subject === subject).map((h) => h.category));
      const plan = await this.state.shredPlan(tenant, subject, categories, sortableInstant(at), await this.whole(tenant, subject), heldBefore);
      plans.set(subject, plan);
      const destroy = plan.flatMap((s) => (s.action === 'destroy' ? [s] : []));
      if (!destroy.length) continue;
      doomed.push({ subject, categories: destroy.map((d) => d.category) });
      for (const d of destroy) facts.push({ type: 'key-destroyed', eventId: this.ids.uuid(), actor: LEDGER, shred: { subject, category: d.category, reason: d.reason, ...(request ? { request } : {}) } } as DraftEntry);
    }
    if (doomed.length) {
      const index = (await Promise.all(doomed.map((k) => this.indexEntries(tenant, k.subject, k.categories)))).flat();
      const recorded = await this.writer.appendFacts(tenant, facts);
      if (recorded._tag === 'Left') return left(recorded.left);
      await this.keys.destroy(tenant, doomed, index);
    }
    for (const [subject, plan] of plans) {
      for (const s of plan) if (s.action === 'hold') await this.keys.setHold(tenant, subject, s.category, { until: s.until, purpose: s.purpose, legalBasis: s.legalBasis });
    }
    return right(plans);
  }

  /** Forgets, for every subject whose key is held, what may go at `at` (default now). */
  async enforce(at: string = sortableInstant(this.clock.now()), stop: () => boolean = () => false): Promise<{ destroyed: number; held: number }> {
    let destroyed = 0;
    const byTenant = new Map<string, Set<string>>();
    for (const h of await this.keys.holds(undefined, sortableInstant(at))) byTenant.set(h.tenant, (byTenant.get(h.tenant) ?? new Set()).add(h.subject));
    for (const [tenant, subjects] of byTenant) destroyed += (await this.inGroups(tenant, [...subjects], at, stop)).destroyed;
    return { destroyed, held: (await this.keys.holds()).length };
  }

  /** `forgetAll` over many subjects, a group at a time; stops early when asked or when the store fails. */
  private async inGroups(tenant: string, subjects: readonly string[], at: string, stop: () => boolean): Promise<{ complete: boolean; destroyed: number }> {
    let destroyed = 0;
    for (let i = 0; i < subjects.length; i += GROUP) {
      if (stop()) return { complete: false, destroyed };
      const done = await this.forgetAll(tenant, subjects.slice(i, i + GROUP), at);
      if (done._tag === 'Left') return { complete: false, destroyed };
      for (const plan of done.right.values()) destroyed += plan.filter((s) => s.action === 'destroy').length;
    }
    return { complete: true, destroyed };
  }

  /**
   * Shreds what the erasures recorded after log position `after` allow (erased events, completed erasure
   * requests, forgotten subjects) — whether or not it was done when they were recorded (a crash, a store
   * that failed in between). Idempotent. Returns the position it got to.
   */
  async sweep(tenant: string, after: number, stop: () => boolean = () => false): Promise<number> {
    const subjects = new Set<string>();
    let last = after;
    for (let from = after; ;) {
      const rows = await this.trail.page(tenant, { type: 'erased' }, from, PAGE);
      for (const { position, entry } of rows) { subjects.add(entry.subject.id); last = Math.max(last, position); }
      if (rows.length < PAGE) break;
      from = rows[rows.length - 1]!.position;
    }
    for (const { subject, position } of await this.requests.erasuresAfter(tenant, after)) { subjects.add(subject); last = Math.max(last, position); }
    // Stopped (the server shuts down) or failed: the next sweep starts again from `after`.
    return (await this.inGroups(tenant, [...subjects], sortableInstant(this.clock.now()), stop)).complete ? last : after;
  }

  /**
   * Finishes shreddings a stop interrupted: keys whose destruction is in the log but which still exist.
   * Only what the tenants' logs recorded after their `key-reconcile` mark is looked at (everything, for
   * a log without a mark that matches it); the mark then moves to where each log stood when looked at.
   */
  async reconcile(tenants: readonly string[], marks: LogMarks): Promise<number> {
    let finished = 0;
    for (const tenant of tenants) {
      const head = await marks.head(tenant);
      const from = await marks.through(tenant, 'key-reconcile');
      if (head < 0 || from >= head) continue;
      // Per subject and category, when its key's destruction was last recorded.
      const bySubject = new Map<string, Map<string, number>>();
      for (const d of await this.requests.destroyedKeysAfter(tenant, from)) {
        const recorded = bySubject.get(d.subject) ?? new Map<string, number>();
        recorded.set(d.category, Math.max(recorded.get(d.category) ?? 0, Date.parse(d.recordedAt)));
        bySubject.set(d.subject, recorded);
      }
      for (const [subject, recorded] of bySubject) {
        // A key made after its category's destruction was recorded is a new one (the subject came back): it stays.
        const live = (await this.keys.liveKeys(tenant, subject)).filter((k) => recorded.has(k.category) && Date.parse(k.createdAt) <= recorded.get(k.category)!).map((k) => k.category);
        if (live.length === 0) continue;
        await this.keys.destroy(tenant, [{ subject, categories: live }], await this.indexEntries(tenant, subject, live));
        finished += live.length;
      }
      await marks.set(tenant, 'key-reconcile', head);
    }
    return finished;
  }

  /** The blind-index entries of the subject's values in `categories`, opened with the keys still there. */
  private async indexEntries(tenant: string, subject: string, categories: readonly string[]): Promise<IndexEntry[]> {
    const out: IndexEntry[] = [];
    const keys: KeyMemo = new Map();
    for (let after = -1; ;) {
      const rows = await this.trail.page(tenant, { subject }, after, PAGE);
      for (const { entry } of rows) {
        const sealed = (entry.subject.identifiers ?? []).filter((s) => categories.includes(s.category));
        if (sealed.length) out.push(...await this.vault.indexEntriesOf(tenant, subject, entry.eventId, sealed, keys));
      }
      if (rows.length < PAGE) break;
      after = rows[rows.length - 1]!.position;
    }
    return out;
  }
}
