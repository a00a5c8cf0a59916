import type { PurposeBody } from '../../declarations/domain/declaration.js';
import { sortableInstant } from '../../common/kernel/time.js';
import { addIso } from './calendar.js';
import type { Fact, needs, SubjectFacts } from './rules.js';

/** A category held in a system from `from` until `to` (its erasure), for the purposes it was collected, stored or used for. */
export interface Holding {
  readonly category: string;
  readonly system: string;
  readonly from: string;
  readonly to: string | null;
  /** The event that started it (when recorded). */
  readonly openedBy?: string;
  /** Purpose → when it was first processed under it in this holding. */
  readonly purposes: ReadonlyMap<string, string>;
}

/**
 * What is kept of one subject, as the rules ask for it: every question is about a moment, so each
 * answer is one ordered lookup (O(log n) in a store with the right indexes), never a replay.
 * Instants are fixed-width UTC text (`sortableInstant`): text order is time order.
 */
export interface SubjectRecords {
  /** The last consent given (true) or withdrawn (false) for `purpose` at or before `at`. */
  consentAt(purpose: string, at: string): boolean | undefined;
  setConsent(purpose: string, at: string, given: boolean): void;
  restrictedAt(at: string): boolean | undefined;
  setRestricted(at: string, restricted: boolean): void;
  objectedAt(purpose: string, at: string): boolean;
  addObjection(purpose: string, at: string): void;
  /** The latest activity (`collected`, `activity`) at or before `at`. */
  lastActivity(at: string): string | undefined;
  addActivity(at: string): void;
  /** The holding of `category` in `system` in force at `at`. */
  holdingAt(category: string, system: string, at: string): Holding | undefined;
  openHolding(category: string, system: string, at: string, purpose: string, openedBy?: string): void;
  /** Closes the holding in force at `at`. */
  closeHolding(category: string, system: string, at: string): void;
  /** Records that the holding in force at `at` is processed for `purpose` (keeping the earliest time). */
  addPurpose(category: string, system: string, at: string, purpose: string): void;
  /** Per system, whether `category` was ever held there and whether a holding is in force at `at`. */
  categoryAt(category: string, at: string): { everHeld: boolean; heldAt: boolean };
  /** Every holding in force at `at`. */
  holdingsAt(at: string): Holding[];
}

export type RetentionStatus = 'held' | 'due-soon' | 'overdue';
export type PurposeLookup = (purpose: string) => PurposeBody | null;

const HOLDS = new Set(['collected', 'stored']);
const ACTIVE = new Set(['collected', 'activity']);
const DAY_MS = 86_400_000;

const EVERYTHING = { consent: true, restriction: true, erasure: true, minimums: true };

/**
 * The rules' view of a subject for `fact`, before `fact` is folded in; `need` (from the rules' `needs`)
 * skips the lookups no rule will read for this fact.
 */
export function subjectFacts(r: SubjectRecords, fact: Fact, purposes: PurposeLookup, authorityRequest: SubjectFacts['authorityRequest'], need: ReturnType<typeof needs> = EVERYTHING): SubjectFacts {
  const at = sortableInstant(fact.occurredAt);
  const minimums: Array<{ category: string; purpose: string; until: string }> = [];
  if (need.minimums && fact.type === 'erased') {
    for (const category of fact.categories) {
      const h = r.holdingAt(category, fact.system, at);
      if (!h) continue;
      for (const [purpose, firstAt] of h.purposes) {
        const rule = purposes(purpose)?.retention;
        if (!rule?.minimum) continue;
        const start = rule.from === 'collection' ? firstAt : (r.lastActivity(at) ?? firstAt);
        const until = addIso(start, rule.minimum).toISOString();
        if (until > at) minimums.push({ category, purpose, until });
      }
    }
  }
  return {
    consented: need.consent && r.consentAt(fact.purpose, at) === true,
    restricted: need.restriction && r.restrictedAt(at) === true,
    objected: need.restriction && r.objectedAt(fact.purpose, at),
    erased: need.erasure ? fact.categories.filter((c) => { const s = r.categoryAt(c, at); return s.everHeld && !s.heldAt; }) : [],
    minimums,
    authorityRequest,
  };
}

/** Folds `fact` into the subject's records. */
export function applyFact(r: SubjectRecords, fact: Fact): void {
  const at = sortableInstant(fact.occurredAt);
  switch (fact.type) {
    case 'consent-given':
    case 'consent-withdrawn':
      r.setConsent(fact.purpose, at, fact.type === 'consent-given');
      break;
    case 'restricted':
    case 'restriction-lifted':
      r.setRestricted(at, fact.type === 'restricted');
      break;
    case 'objected':
      r.addObjection(fact.purpose, at);
      break;
    case 'erased':
      for (const category of fact.categories) r.closeHolding(category, fact.system, at);
      break;
    case 'collected':
    case 'stored':
    case 'used':
    case 'rectified':
    case 'disclosed':
    case 'transferred':
    case 'activity':
      break;
  }
  if (ACTIVE.has(fact.type)) r.addActivity(at);
  if (HOLDS.has(fact.type) || fact.type === 'used') {
    for (const category of fact.categories) {
      const h = r.holdingAt(category, fact.system, at);
      if (h) {
        const first = h.purposes.get(fact.purpose);
        if (first === undefined || at < first) r.addPurpose(category, fact.system, at, fact.purpose);
      } else if (HOLDS.has(fact.type)) r.openHolding(category, fact.system, at, fact.purpose, fact.eventId);
    }
  }
}

/**
 * The holdings at `when` with their deadline (null: unbounded) and status; `dueSoonDays` before the
 * deadline a holding is `due-soon`. A purpose counts from when it was first processed, up to `when`.
 */
export function retentionAt(r: SubjectRecords, when: string, purposes: PurposeLookup, dueSoonDays = 7): Array<{ holding: Holding; deadline: string | null; status: RetentionStatus }> {
  const at = sortableInstant(when);
  return r.holdingsAt(at).flatMap((h) => {
    const d = holdingStatus(r, h, at, purposes, dueSoonDays);
    return d ? [{ holding: h, ...d }] : [];
  });
}

/**
 * A holding's deadline at `at` — the latest of its purposes' (null: unbounded) — and its status; null
 * when none of its purposes is declared. `at` is fixed-width UTC text.
 */
export function holdingStatus(r: SubjectRecords, h: Holding, at: string, purposes: PurposeLookup, dueSoonDays = 7): { deadline: string | null; status: RetentionStatus } | null {
  let deadline: number | null = -Infinity;
  for (const [purpose, firstAt] of h.purposes) {
    if (firstAt > at) continue;
    const rule = purposes(purpose)?.retention;
    if (!rule) continue;
    if (rule.period === null) { deadline = null; break; }
    const start = rule.from === 'collection' ? firstAt : (r.lastActivity(at) ?? firstAt);
    deadline = Math.max(deadline, addIso(start, rule.period).getTime());
  }
  if (deadline === -Infinity) return null;
  const t = new Date(at).getTime();
  const status: RetentionStatus = deadline === null ? 'held' : t >= deadline ? 'overdue' : t >= deadline - dueSoonDays * DAY_MS ? 'due-soon' : 'held';
  return { deadline: deadline === null ? null : new Date(deadline).toISOString(), status };
}

/** Values over time, ordered by instant (ties in recording order). */
export class Timeline<T> {
  private readonly items: Array<{ at: string; value: T }> = [];

  /** The items in order, as plain pairs. */
  pairs(): Array<[string, T]> {
    return this.items.map((i) => [i.at, i.value]);
  }

  static of<T>(pairs: ReadonlyArray<readonly [string, T]>): Timeline<T> {
    const t = new Timeline<T>();
    for (const [at, value] of pairs) t.items.push({ at, value });
    return t;
  }

  set(at: string, value: T): void {
    let i = this.items.length;
    while (i > 0 && this.items[i - 1]!.at > at) i--;
    this.items.splice(i, 0, { at, value });
  }

  /** The last item at or before `at`. */
  last(at: string): { at: string; value: T } | undefined {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid]!.at <= at) lo = mid + 1;
      else hi = mid;
    }
    return lo ? this.items[lo - 1] : undefined;
  }
}

interface MutableHolding { category: string; system: string; from: string; to: string | null; openedBy?: string; purposes: Map<string, string> }

/** A subject's records as plain data (JSON), for a store that keeps each subject as one document. */
export interface SubjectSnapshot {
  /** Consents per purpose: [at, given]. */
  readonly consents: Record<string, Array<[string, boolean]>>;
  readonly restrictions: Array<[string, boolean]>;
  /** Objections per purpose: when. */
  readonly objections: Record<string, string[]>;
  readonly activity: string[];
  /** Every holding, in the order opened. */
  readonly holdings: Array<{ category: string; system: string; from: string; to: string | null; openedBy?: string; purposes: Record<string, string> }>;
}

/** A subject's records in memory (for tests, tools, the decision point's what-if, and stores of one document per subject). */
export class MemorySubjectRecords implements SubjectRecords {
  private readonly consents = new Map<string, Timeline<boolean>>();
  private restriction = new Timeline<boolean>();
  private readonly objections = new Map<string, Timeline<true>>();
  private activity = new Timeline<true>();
  private readonly holdings = new Map<string, MutableHolding[]>();
  /** Every holding, in the order opened. */
  private readonly opened: MutableHolding[] = [];

  static restore(s: SubjectSnapshot): MemorySubjectRecords {
    const r = new MemorySubjectRecords();
    for (const [purpose, pairs] of Object.entries(s.consents)) r.consents.set(purpose, Timeline.of(pairs));
    r.restriction = Timeline.of(s.restrictions);
    for (const [purpose, ats] of Object.entries(s.objections)) r.objections.set(purpose, Timeline.of(ats.map((at) => [at, true] as const)));
    r.activity = Timeline.of(s.activity.map((at) => [at, true] as const));
    for (const h of s.holdings) {
      const m: MutableHolding = { category: h.category, system: h.system, from: h.from, to: h.to, purposes: new Map(Object.entries(h.purposes)), ...(h.openedBy ? { openedBy: h.openedBy } : {}) };
      r.list(h.category, h.system).push(m);
      r.opened.push(m);
    }
    return r;
  }

  snapshot(): SubjectSnapshot {
    return {
      consents: Object.fromEntries([...this.consents].map(([p, t]) => [p, t.pairs()])),
      restrictions: this.restriction.pairs(),
      objections: Object.fromEntries([...this.objections].map(([p, t]) => [p, t.pairs().map(([at]) => at)])),
      activity: this.activity.pairs().map(([at]) => at),
      holdings: this.opened.map((h) => ({ category: h.category, system: h.system, from: h.from, to: h.to, ...(h.openedBy ? { openedBy: h.openedBy } : {}), purposes: Object.fromEntries(h.purposes) })),
    };
  }

  /** Every holding the subject ever had, in the order opened. */
  allHoldings(): Holding[] {
    return [...this.opened];
  }

  private static timeline<T>(m: Map<string, Timeline<T>>, k: string): Timeline<T> {
    let t = m.get(k);
    if (!t) m.set(k, (t = new Timeline<T>()));
    return t;
  }

  private list(category: string, system: string): MutableHolding[] {
    const k = `${category}\u0000${system}`;
    let l = this.holdings.get(k);
    if (!l) this.holdings.set(k, (l = []));
    return l;
  }

  private static inForce(list: readonly MutableHolding[], at: string): MutableHolding | undefined {
    for (let i = list.length - 1; i >= 0; i--) {
      const h = list[i]!;
      if (h.from <= at && (h.to === null || at < h.to)) return h;
    }
    return undefined;
  }

  consentAt(purpose: string, at: string) { return this.consents.get(purpose)?.last(at)?.value; }
  setConsent(purpose: string, at: string, given: boolean) { MemorySubjectRecords.timeline(this.consents, purpose).set(at, given); }
  restrictedAt(at: string) { return this.restriction.last(at)?.value; }
  setRestricted(at: string, restricted: boolean) { this.restriction.set(at, restricted); }
  objectedAt(purpose: string, at: string) { return this.objections.get(purpose)?.last(at) !== undefined; }
  addObjection(purpose: string, at: string) { MemorySubjectRecords.timeline(this.objections, purpose).set(at, true); }
  lastActivity(at: string) { return this.activity.last(at)?.at; }
  addActivity(at: string) { this.activity.set(at, true); }
  holdingAt(category: string, system: string, at: string): Holding | undefined { return MemorySubjectRecords.inForce(this.holdings.get(`${category}\u0000${system}`) ?? [], at); }
  openHolding(category: string, system: string, at: string, purpose: string, openedBy?: string) {
    const h: MutableHolding = { category, system, from: at, to: null, purposes: new Map([[purpose, at]]), ...(openedBy ? { openedBy } : {}) };
    this.list(category, system).push(h);
    this.opened.push(h);
  }
  closeHolding(category: string, system: string, at: string) {
    const h = MemorySubjectRecords.inForce(this.holdings.get(`${category}\u0000${system}`) ?? [], at);
    if (h) h.to = at;
  }
  addPurpose(category: string, system: string, at: string, purpose: string) {
    const h = MemorySubjectRecords.inForce(this.holdings.get(`${category}\u0000${system}`) ?? [], at);
    if (!h) return;
    const first = h.purposes.get(purpose);
    if (!first || at < first) h.purposes.set(purpose, at);
  }
  categoryAt(category: string, at: string) {
    let everHeld = false;
    for (const [k, list] of this.holdings) {
      if (!k.startsWith(`${category}\u0000`) || list.length === 0) continue;
      everHeld = true;
      if (MemorySubjectRecords.inForce(list, at)) return { everHeld, heldAt: true };
    }
    return { everHeld, heldAt: false };
  }
  holdingsAt(at: string): Holding[] {
    return [...this.holdings.values()].flatMap((l) => { const h = MemorySubjectRecords.inForce(l, at); return h ? [h] : []; });
  }
}
