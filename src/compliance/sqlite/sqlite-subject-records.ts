import { LRUCache } from 'lru-cache';
import type { Db } from '../../common/sqlite/open-database.js';
import { Timeline, type Holding, type SubjectRecords } from '../domain/subject-state.js';
import { ActivityIndex } from './activity-index.js';

/** The holdings' index by subject (see `SqliteSubjectStore.pushedOut`). */
const HOLDINGS_INDEX = 'create index if not exists cmp_holdings_at on cmp_holdings (tenant, subject, category, system, from_at);';

export const SUBJECT_RECORDS_SCHEMA = `
create table if not exists cmp_consents (seq integer primary key, tenant text not null, subject text not null, purpose text not null, at text not null, given integer not null);
create index if not exists cmp_consents_at on cmp_consents (tenant, subject, purpose, at, seq);
create table if not exists cmp_restrictions (seq integer primary key, tenant text not null, subject text not null, at text not null, restricted integer not null);
create index if not exists cmp_restrictions_at on cmp_restrictions (tenant, subject, at, seq);
create table if not exists cmp_objections (seq integer primary key, tenant text not null, subject text not null, purpose text not null, at text not null);
create index if not exists cmp_objections_at on cmp_objections (tenant, subject, purpose, at);
create table if not exists cmp_holdings (id integer primary key, tenant text not null, subject text not null, category text not null, system text not null, from_at text not null, to_at text, opened_by text);
${HOLDINGS_INDEX}
create table if not exists cmp_holding_purposes (seq integer primary key, holding integer not null, purpose text not null, first_at text not null, unique (holding, purpose));
`;

interface HoldingRow { id: number; category: string; system: string; from_at: string; to_at: string | null; opened_by: string | null }

/** A holding as the writer keeps it: its row's id, and its purposes. */
interface KeptHolding { readonly id: number; readonly category: string; readonly system: string; readonly from: string; to: string | null; readonly openedBy?: string; readonly purposes: Map<string, string> }

/** Subjects the writer keeps in memory (least recently used ones are dropped and read again when needed). */
export const KEPT_SUBJECTS = 20_000;

/** Subjects a rebuild remembers having folded (see `SqliteSubjectStore.fresh`): ~100 bytes each. */
const FRESH_SUBJECTS = 2_000_000;

const inForce = (h: KeptHolding, at: string) => h.from <= at && (h.to === null || h.to > at);

/** The statements of the compliance state on `db`. */
function statements(db: Db) {
  const p = (sql: string) => db.prepare(sql);
  return {
    consentAt: p('select given from cmp_consents where tenant = ? and subject = ? and purpose = ? and at <= ? order by at desc, seq desc limit 1').pluck(),
    setConsent: p('insert into cmp_consents (tenant, subject, purpose, at, given) values (?, ?, ?, ?, ?)'),
    restrictedAt: p('select restricted from cmp_restrictions where tenant = ? and subject = ? and at <= ? order by at desc, seq desc limit 1').pluck(),
    setRestricted: p('insert into cmp_restrictions (tenant, subject, at, restricted) values (?, ?, ?, ?)'),
    objectedAt: p('select 1 from cmp_objections where tenant = ? and subject = ? and purpose = ? and at <= ? limit 1').pluck(),
    addObjection: p('insert into cmp_objections (tenant, subject, purpose, at) values (?, ?, ?, ?)'),
    lastActivity: p('select at from cmp_activity where tenant = ? and subject = ? and at <= ? order by at desc limit 1').pluck(),
    addActivity: p('insert into cmp_activity (tenant, subject, at) values (?, ?, ?)'),
    holdingAt: p(`select id, category, system, from_at, to_at, opened_by from cmp_holdings where tenant = ? and subject = ? and category = ? and system = ?
      and from_at <= ? and (to_at is null or to_at > ?) order by from_at desc, id desc limit 1`),
    purposes: p('select purpose, first_at from cmp_holding_purposes where holding = ?'),
    open: p('insert into cmp_holdings (tenant, subject, category, system, from_at, opened_by) values (?, ?, ?, ?, ?, ?)'),
    close: p('update cmp_holdings set to_at = ? where id = ?'),
    addPurpose: p('insert into cmp_holding_purposes (holding, purpose, first_at) values (?, ?, ?) on conflict (holding, purpose) do update set first_at = min(first_at, excluded.first_at)'),
    categoryAt: p(`select count(*) as ever, coalesce(sum(from_at <= ? and (to_at is null or to_at > ?)), 0) as now from cmp_holdings
      where tenant = ? and subject = ? and category = ?`),
    holdingsAt: p(`select id, category, system, from_at, to_at, opened_by from cmp_holdings where tenant = ? and subject = ? and from_at <= ? and (to_at is null or to_at > ?)`),
    subjectHoldings: p('select id, category, system, from_at, to_at, opened_by from cmp_holdings where tenant = ? and subject = ? order by id'),
    tenantHoldingsAt: p(`select id, subject, category, system, from_at, to_at, opened_by from cmp_holdings where tenant = ? and id > ? and from_at <= ? and (to_at is null or to_at > ?)
      and (? is null or subject = ?) order by id limit ?`),
    loadConsents: p('select purpose, at, given from cmp_consents where tenant = ? and subject = ? order by purpose, at, seq'),
    loadRestrictions: p('select at, restricted from cmp_restrictions where tenant = ? and subject = ? order by at, seq'),
    loadObjections: p('select purpose, min(at) as at from cmp_objections where tenant = ? and subject = ? group by purpose'),
    loadPurposes: p('select p.holding, p.purpose, p.first_at from cmp_holdings h join cmp_holding_purposes p on p.holding = h.id where h.tenant = ? and h.subject = ?'),
    // By the holdings' ids (a JSON array), while their index by subject is not made (see `SqliteSubjectStore.beginRebuild`).
    holdingsById: p('select id, category, system, from_at, to_at, opened_by from cmp_holdings where id in (select value from json_each(?)) order by id'),
    purposesById: p('select holding, purpose, first_at from cmp_holding_purposes where holding in (select value from json_each(?))'),
  };
}
type Statements = ReturnType<typeof statements>;

/**
 * One subject's records as the writer keeps them: the rows of its tables (but its activity, which only
 * an erasure's minimum retention asks for), read once, answered from memory and written through.
 */
class KeptSubject implements SubjectRecords {
  /** Per purpose; loaded in the tables' order (at, seq), so that ties keep their recording order. */
  private readonly consents = new Map<string, Timeline<boolean>>();
  private readonly restrictions: Timeline<boolean>;
  /** Per purpose, the earliest objection. */
  private readonly objections = new Map<string, string>();
  /** In id order. */
  private readonly holdings: KeptHolding[] = [];

  /**
   * `stored`: false for a subject known to have no rows yet (nothing is read). `holdingIds`: its holdings
   * are these rows, read by id (their index by subject is not made yet).
   */
  constructor(private readonly s: Statements, private readonly tenant: string, private readonly subject: string, private readonly activity: Pick<SubjectRecords, 'lastActivity' | 'addActivity'>, stored = true,
    holdingIds?: readonly number[]) {
    if (!stored) {
      this.restrictions = new Timeline<boolean>();
      return;
    }
    for (const r of s.loadConsents.all(tenant, subject) as Array<{ purpose: string; at: string; given: number }>) this.consentsOf(r.purpose).set(r.at, r.given === 1);
    this.restrictions = Timeline.of((s.loadRestrictions.all(tenant, subject) as Array<{ at: string; restricted: number }>).map((r) => [r.at, r.restricted === 1] as const));
    for (const r of s.loadObjections.all(tenant, subject) as Array<{ purpose: string; at: string }>) this.objections.set(r.purpose, r.at);
    const byId = new Map<number, KeptHolding>();
    const ids = holdingIds && JSON.stringify(holdingIds);
    for (const r of (ids ? s.holdingsById.all(ids) : holdingIds ? [] : s.subjectHoldings.all(tenant, subject)) as HoldingRow[]) {
      const h: KeptHolding = { id: r.id, category: r.category, system: r.system, from: r.from_at, to: r.to_at, ...(r.opened_by ? { openedBy: r.opened_by } : {}), purposes: new Map() };
      this.holdings.push(h);
      byId.set(h.id, h);
    }
    if (this.holdings.length) for (const r of (ids ? s.purposesById.all(ids) : s.loadPurposes.all(tenant, subject)) as Array<{ holding: number; purpose: string; first_at: string }>) byId.get(r.holding)?.purposes.set(r.purpose, r.first_at);
  }

  /** The ids of its holdings' rows, in order. */
  holdingIds(): number[] {
    return this.holdings.map((h) => h.id);
  }

  /** The holding in force at `at`, as `holdingAt`'s query picks it: the latest start, then the latest id. */
  private inForce(category: string, system: string, at: string): KeptHolding | undefined {
    let best: KeptHolding | undefined;
    for (const h of this.holdings) {
      if (h.category !== category || h.system !== system || !inForce(h, at)) continue;
      if (!best || h.from >= best.from) best = h;
    }
    return best;
  }

  private consentsOf(purpose: string): Timeline<boolean> {
    let t = this.consents.get(purpose);
    if (!t) this.consents.set(purpose, (t = new Timeline<boolean>()));
    return t;
  }

  consentAt(purpose: string, at: string) { return this.consents.get(purpose)?.last(at)?.value; }
  setConsent(purpose: string, at: string, given: boolean) {
    this.s.setConsent.run(this.tenant, this.subject, purpose, at, given ? 1 : 0);
    this.consentsOf(purpose).set(at, given);
  }
  restrictedAt(at: string) { return this.restrictions.last(at)?.value; }
  setRestricted(at: string, restricted: boolean) {
    this.s.setRestricted.run(this.tenant, this.subject, at, restricted ? 1 : 0);
    this.restrictions.set(at, restricted);
  }
  objectedAt(purpose: string, at: string) { const first = this.objections.get(purpose); return first !== undefined && first <= at; }
  addObjection(purpose: string, at: string) {
    this.s.addObjection.run(this.tenant, this.subject, purpose, at);
    const first = this.objections.get(purpose);
    if (first === undefined || at < first) this.objections.set(purpose, at);
  }
  lastActivity(at: string) { return this.activity.lastActivity(at); }
  addActivity(at: string) { this.activity.addActivity(at); }
  holdingAt(category: string, system: string, at: string): Holding | undefined { return this.inForce(category, system, at); }
  openHolding(category: string, system: string, at: string, purpose: string, openedBy?: string) {
    const id = Number(this.s.open.run(this.tenant, this.subject, category, system, at, openedBy ?? null).lastInsertRowid);
    this.s.addPurpose.run(id, purpose, at);
    this.holdings.push({ id, category, system, from: at, to: null, ...(openedBy ? { openedBy } : {}), purposes: new Map([[purpose, at]]) });
  }
  closeHolding(category: string, system: string, at: string) {
    const h = this.inForce(category, system, at);
    if (!h) return;
    this.s.close.run(at, h.id);
    h.to = at;
  }
  addPurpose(category: string, system: string, at: string, purpose: string) {
    const h = this.inForce(category, system, at);
    if (!h) return;
    this.s.addPurpose.run(h.id, purpose, at);
    const first = h.purposes.get(purpose);
    if (first === undefined || at < first) h.purposes.set(purpose, at);
  }
  categoryAt(category: string, at: string) {
    let everHeld = false;
    for (const h of this.holdings) {
      if (h.category !== category) continue;
      everHeld = true;
      if (inForce(h, at)) return { everHeld, heldAt: true };
    }
    return { everHeld, heldAt: false };
  }
  holdingsAt(at: string): Holding[] {
    return this.holdings.filter((h) => inForce(h, at))
      .sort((a, b) => (a.category < b.category ? -1 : a.category > b.category ? 1 : a.system < b.system ? -1 : a.system > b.system ? 1 : a.from < b.from ? -1 : a.from > b.from ? 1 : a.id - b.id));
  }
}

/**
 * The compliance state of every subject in `ledger.db`, one indexed row per fact: each question of the
 * rules is one ordered index lookup. Written inside the commit that records the facts.
 */
export class SqliteSubjectStore {
  private readonly s: Statements;

  /**
   * The writer's side (`keep`): subjects touched lately, kept in memory (`KeptSubject`) so that an event
   * reads nothing back; the least recently used are dropped beyond `keep` subjects (those a rebuild drops
   * leave their holdings' ids in `pushedOut`). An LRU cache (`lru-cache`), not a `Map` kept in use order: each event
   * moved its subject to the end of the map (a delete and a set), and each drop took its first key, which
   * V8 finds by skipping every entry deleted since the table was last rebuilt (a tenth of the compliance
   * engine's rebuild of the 1M-event demo ledger went to that).
   */
  private readonly kept: LRUCache<string, KeptSubject>;

  /**
   * While a rebuild folds the log into empty tables: the subjects folded since it began. Any other subject
   * has no rows yet, so its records start empty without the queries that read them. Null otherwise, and
   * beyond `FRESH_SUBJECTS` subjects (then every subject is read, as usual).
   */
  private fresh: Set<string> | null = null;

  /**
   * While such a rebuild runs, `cmp_holdings_at` is not there: made once at its end (one sort), instead of
   * taking each new holding at a random place of it (on the 1M-event demo ledger, 657,000 holdings of
   * 180,000 subjects). The few subjects pushed out of memory and met again (~3,000 there) are read back by
   * the ids of their holdings, kept here when they are pushed out.
   */
  private pushedOut: Map<string, number[]> | null = null;
  /** Where the rebuild under way dropped that index, to make it again at its end, whatever happened. */
  private dropped: Db | null = null;

  /**
   * With `activity`, activity goes to that deferred index (the writer's side); without, straight to the
   * table. `keep` (subjects kept in memory) only on the connection that writes them (call `forget` when
   * a commit fails).
   */
  constructor(db: Db, private readonly activity?: ActivityIndex, private readonly keep = 0) {
    this.kept = new LRUCache<string, KeptSubject>({
      max: Math.max(keep, 1),
      dispose: (r, k, reason) => {
        if (reason !== 'evict') return;
        const held = this.pushedOut && r.holdingIds();
        if (held?.length) this.pushedOut!.set(k, held);
      },
    });
    db.exec(SUBJECT_RECORDS_SCHEMA);
    ActivityIndex.ensureSchema(db);
    this.s = statements(db);
  }

  /** Every holding a subject ever had, in order. */
  subjectHoldings(tenant: string, subject: string): Holding[] {
    return (this.s.subjectHoldings.all(tenant, subject) as HoldingRow[]).map((r) => this.holding(r));
  }

  /** Holdings of a tenant in force at `at` (optionally of one subject), in id order after `afterId`. */
  holdingsAt(tenant: string, at: string, afterId: number, limit: number, subject?: string): Array<{ id: number; subject: string; holding: Holding }> {
    return (this.s.tenantHoldingsAt.all(tenant, afterId, at, at, subject ?? null, subject ?? null, limit) as Array<HoldingRow & { subject: string }>)
      .map((r) => ({ id: r.id, subject: r.subject, holding: this.holding(r) }));
  }

  private holding(r: HoldingRow): Holding {
    return {
      category: r.category, system: r.system, from: r.from_at, to: r.to_at, ...(r.opened_by ? { openedBy: r.opened_by } : {}),
      purposes: new Map((this.s.purposes.all(r.id) as Array<{ purpose: string; first_at: string }>).map((x) => [x.purpose, x.first_at])),
    };
  }

  /** Forgets the subjects kept in memory (a commit failed). */
  forget(): void {
    this.kept.clear();
    this.fresh = null;
    this.makeIndexes();
  }

  /**
   * A rebuild begins: when the tables hold no subject's rows (not a resumed one), subjects met from now on
   * for the first time have none, and the holdings' index by subject waits for the end (`pushedOut`).
   * Should the process stop before, the schema makes the index again when the store is next opened.
   */
  beginRebuild(db: Db): void {
    const empty = ['cmp_consents', 'cmp_restrictions', 'cmp_objections', 'cmp_holdings', 'cmp_activity']
      .every((table) => db.prepare(`select 1 from ${table} limit 1`).get() === undefined);
    this.fresh = empty && this.keep > 0 ? new Set() : null;
    if (this.fresh) {
      db.exec('drop index if exists cmp_holdings_at');
      this.dropped = db;
      this.pushedOut = new Map();
      this.activity?.dropIndex(db);
    }
  }

  /** The rebuild is over (or failed): subjects are read as usual, by the indexes, made now. */
  endRebuild(): void {
    this.fresh = null;
    this.makeIndexes();
    this.dropped = null;
    this.activity?.finish();
  }

  /** Makes the indexes a rebuild let wait (within the transaction under way, if any: made again at the rebuild's end should it roll back). */
  private makeIndexes(): void {
    this.dropped?.exec(HOLDINGS_INDEX);
    this.pushedOut = null;
    this.activity?.indexed();
  }

  records(tenant: string, subject: string): SubjectRecords {
    if (this.keep === 0) return this.stored(tenant, subject);
    const k = `${tenant}\u0000${subject}`;
    let r = this.kept.get(k);
    if (!r) {
      const unseen = this.fresh !== null && !this.fresh.has(k);
      const ids = this.pushedOut;
      r = new KeptSubject(this.s, tenant, subject, this.activityOf(tenant, subject), !unseen, ids ? (ids.get(k) ?? []) : undefined);
      ids?.delete(k);
      if (this.fresh) {
        this.fresh.add(k);
        if (this.fresh.size > FRESH_SUBJECTS) {
          this.fresh = null;
          this.makeIndexes();
        }
      }
      // The least recently used goes, beyond `keep` (see `dispose` above).
      this.kept.set(k, r);
    }
    return r;
  }

  private activityOf(tenant: string, subject: string): Pick<SubjectRecords, 'lastActivity' | 'addActivity'> {
    const s = this.s;
    return {
      lastActivity: (at) => {
        this.activity?.indexed();
        const stored = s.lastActivity.get(tenant, subject, at) as string | undefined;
        const unwritten = this.activity?.latest(tenant, subject, at);
        return unwritten !== undefined && (stored === undefined || unwritten > stored) ? unwritten : stored;
      },
      addActivity: (at) => (this.activity ? this.activity.note(tenant, subject, at) : void s.addActivity.run(tenant, subject, at)),
    };
  }

  /** A subject's records read from the tables at each question (readers). */
  private stored(tenant: string, subject: string): SubjectRecords {
    const s = this.s;
    const rowAt = (category: string, system: string, at: string) => s.holdingAt.get(tenant, subject, category, system, at, at) as HoldingRow | undefined;
    return {
      ...this.activityOf(tenant, subject),
      consentAt: (purpose, at) => { const g = s.consentAt.get(tenant, subject, purpose, at) as number | undefined; return g === undefined ? undefined : g === 1; },
      setConsent: (purpose, at, given) => void s.setConsent.run(tenant, subject, purpose, at, given ? 1 : 0),
      restrictedAt: (at) => { const r = s.restrictedAt.get(tenant, subject, at) as number | undefined; return r === undefined ? undefined : r === 1; },
      setRestricted: (at, restricted) => void s.setRestricted.run(tenant, subject, at, restricted ? 1 : 0),
      objectedAt: (purpose, at) => s.objectedAt.get(tenant, subject, purpose, at) !== undefined,
      addObjection: (purpose, at) => void s.addObjection.run(tenant, subject, purpose, at),
      holdingAt: (category, system, at) => { const r = rowAt(category, system, at); return r && this.holding(r); },
      openHolding: (category, system, at, purpose, openedBy) => {
        const id = s.open.run(tenant, subject, category, system, at, openedBy ?? null).lastInsertRowid;
        s.addPurpose.run(id, purpose, at);
      },
      closeHolding: (category, system, at) => { const r = rowAt(category, system, at); if (r) s.close.run(at, r.id); },
      addPurpose: (category, system, at, purpose) => { const r = rowAt(category, system, at); if (r) s.addPurpose.run(r.id, purpose, at); },
      categoryAt: (category, at) => { const r = s.categoryAt.get(at, at, tenant, subject, category) as { ever: number; now: number }; return { everHeld: r.ever > 0, heldAt: r.now > 0 }; },
      holdingsAt: (at) => (s.holdingsAt.all(tenant, subject, at, at) as HoldingRow[]).map((r) => this.holding(r)),
    };
  }
}
