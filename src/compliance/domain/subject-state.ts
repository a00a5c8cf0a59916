import type { PurposeBody } from '../../declarations/domain/declaration.js';
import { sortableInstant } from '../../common/kernel/time.js';
import { addIso } from './calendar.js';
import type { Fact, SubjectFacts } from './rules.js';

/** Values over time, ordered by `occurredAt` (ties in recording order); read at any moment in O(log n). */
export class Timeline<T> {
  private readonly items: Array<{ at: string; value: T }> = [];

  set(at: string, value: T): void {
    let i = this.items.length;
    while (i > 0 && this.items[i - 1]!.at > at) i--;
    this.items.splice(i, 0, { at, value });
  }

  /** The value in force at `at` (the last set at or before it). */
  at(at: string): T | undefined {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid]!.at <= at) lo = mid + 1;
      else hi = mid;
    }
    return lo ? this.items[lo - 1]!.value : undefined;
  }

  get size(): number {
    return this.items.length;
  }
}

/** A category held in a system from `from` until `to` (its erasure), for the purposes it was collected, stored or used for. */
export interface Holding {
  readonly category: string;
  readonly system: string;
  readonly from: string;
  to: string | null;
  /** Purpose → when it was first processed under it in this holding. */
  readonly purposes: Map<string, string>;
}

export type RetentionStatus = 'held' | 'due-soon' | 'overdue';
export type PurposeLookup = (purpose: string) => PurposeBody | null;

const HOLDS = new Set(['collected', 'stored']);
const ACTIVE = new Set(['collected', 'activity']);
const DAY_MS = 86_400_000;

/**
 * (Every instant is kept as fixed-width UTC text, `sortableInstant`, so that text order is time order.)
 *
 * What the ledger knows of one subject, folded event by event (never replayed): consents per purpose,
 * restriction, objections, activity, and the holdings of each category in each system. It answers the
 * rules' questions at an event's `occurredAt`, and retention at any moment.
 */
export class SubjectState {
  readonly consents = new Map<string, Timeline<boolean>>();
  readonly restriction = new Timeline<boolean>();
  readonly objections = new Map<string, Timeline<boolean>>();
  readonly holdings = new Map<string, Holding[]>();

  private holdingsOf(category: string, system: string): Holding[] {
    const k = `${category}\u0000${system}`;
    let h = this.holdings.get(k);
    if (!h) this.holdings.set(k, (h = []));
    return h;
  }

  private static openAt(list: readonly Holding[], at: string): Holding | undefined {
    for (let i = list.length - 1; i >= 0; i--) {
      const h = list[i]!;
      if (h.from <= at && (h.to === null || at < h.to)) return h;
    }
    return undefined;
  }

  /** When the subject showed activity (`collected`, `activity`), in order. */
  private readonly activityAts: string[] = [];

  /** The latest activity at or before `at`. */
  lastActivity(at: string): string | undefined {
    let best: string | undefined;
    for (let lo = 0, hi = this.activityAts.length; lo < hi;) {
      const mid = (lo + hi) >> 1;
      if (this.activityAts[mid]! <= at) { best = this.activityAts[mid]; lo = mid + 1; } else hi = mid;
    }
    return best;
  }

  /** Categories of `categories` that were held somewhere and are now erased from every system. */
  erasedEverywhere(categories: readonly string[], at: string): string[] {
    return categories.filter((c) => {
      let held = false;
      for (const [k, list] of this.holdings) {
        if (!k.startsWith(`${c}\u0000`) || list.length === 0) continue;
        held = true;
        if (list.some((h) => h.from <= at && (h.to === null || h.to > at))) return false;
      }
      return held;
    });
  }

  /** The rules' view of this subject for `fact`, before `fact` is folded in. */
  factsFor(fact: Fact, purposes: PurposeLookup, authorityRequest: SubjectFacts['authorityRequest']): SubjectFacts {
    const at = sortableInstant(fact.occurredAt);
    const minimums: Array<{ category: string; purpose: string; until: string }> = [];
    if (fact.type === 'erased') {
      for (const category of fact.categories) {
        const h = SubjectState.openAt(this.holdings.get(`${category}\u0000${fact.system}`) ?? [], at);
        if (!h) continue;
        for (const [purpose, firstAt] of h.purposes) {
          const rule = purposes(purpose)?.retention;
          if (!rule?.minimum) continue;
          const start = rule.from === 'collection' ? firstAt : (this.lastActivity(at) ?? firstAt);
          const until = addIso(start, rule.minimum).toISOString();
          if (until > at) minimums.push({ category, purpose, until });
        }
      }
    }
    return {
      consented: this.consents.get(fact.purpose)?.at(at) === true,
      restricted: this.restriction.at(at) === true,
      objected: this.objections.get(fact.purpose)?.at(at) === true,
      erased: this.erasedEverywhere(fact.categories, at),
      minimums,
      authorityRequest,
    };
  }

  /** Folds `fact` in. */
  apply(fact: Fact): void {
    const at = sortableInstant(fact.occurredAt);
    switch (fact.type) {
      case 'consent-given':
      case 'consent-withdrawn': {
        let t = this.consents.get(fact.purpose);
        if (!t) this.consents.set(fact.purpose, (t = new Timeline()));
        t.set(at, fact.type === 'consent-given');
        break;
      }
      case 'restricted':
      case 'restriction-lifted':
        this.restriction.set(at, fact.type === 'restricted');
        break;
      case 'objected': {
        let t = this.objections.get(fact.purpose);
        if (!t) this.objections.set(fact.purpose, (t = new Timeline()));
        t.set(at, true);
        break;
      }
      case 'erased':
        for (const category of fact.categories) {
          const h = SubjectState.openAt(this.holdings.get(`${category}\u0000${fact.system}`) ?? [], at);
          if (h) h.to = at;
        }
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
    if (ACTIVE.has(fact.type)) {
      let i = this.activityAts.length;
      while (i > 0 && this.activityAts[i - 1]! > at) i--;
      this.activityAts.splice(i, 0, at);
    }
    if (HOLDS.has(fact.type) || fact.type === 'used') {
      for (const category of fact.categories) {
        const list = this.holdingsOf(category, fact.system);
        let h = SubjectState.openAt(list, at);
        if (!h && HOLDS.has(fact.type)) list.push((h = { category, system: fact.system, from: at, to: null, purposes: new Map() }));
        if (h) {
          const first = h.purposes.get(fact.purpose);
          if (!first || at < first) h.purposes.set(fact.purpose, at);
        }
      }
    }
  }

  /**
   * The holdings at `at` with their deadline (null: unbounded) and status; `dueSoonDays` before the
   * deadline a holding is `due-soon`. Purposes count from when they were first processed, up to `at`.
   */
  retentionAt(when: string, purposes: PurposeLookup, dueSoonDays = 7): Array<{ holding: Holding; deadline: string | null; status: RetentionStatus }> {
    const at = sortableInstant(when);
    const out = [];
    const t = new Date(at).getTime();
    for (const list of this.holdings.values()) {
      const h = SubjectState.openAt(list, at);
      if (!h) continue;
      let deadline: number | null = -Infinity;
      for (const [purpose, firstAt] of h.purposes) {
        if (firstAt > at) continue;
        const rule = purposes(purpose)?.retention;
        if (!rule) continue;
        if (rule.period === null) { deadline = null; break; }
        const start = rule.from === 'collection' ? firstAt : (this.lastActivity(at) ?? firstAt);
        deadline = Math.max(deadline, addIso(start, rule.period).getTime());
      }
      if (deadline === -Infinity) continue;
      const status: RetentionStatus = deadline === null ? 'held' : t >= deadline ? 'overdue' : t >= deadline - dueSoonDays * DAY_MS ? 'due-soon' : 'held';
      out.push({ holding: h, deadline: deadline === null ? null : new Date(deadline).toISOString(), status });
    }
    return out;
  }
}
