import type { Db } from '../../common/sqlite/open-database.js';
import type { Holding, SubjectRecords } from '../domain/subject-state.js';
import { ActivityIndex } from './activity-index.js';

export const SUBJECT_RECORDS_SCHEMA = `
create table if not exists cmp_consents (seq integer primary key, tenant text not null, subject text not null, purpose text not null, at text not null, given integer not null);
create index if not exists cmp_consents_at on cmp_consents (tenant, subject, purpose, at, seq);
create table if not exists cmp_restrictions (seq integer primary key, tenant text not null, subject text not null, at text not null, restricted integer not null);
create index if not exists cmp_restrictions_at on cmp_restrictions (tenant, subject, at, seq);
create table if not exists cmp_objections (seq integer primary key, tenant text not null, subject text not null, purpose text not null, at text not null);
create index if not exists cmp_objections_at on cmp_objections (tenant, subject, purpose, at);
create table if not exists cmp_holdings (id integer primary key, tenant text not null, subject text not null, category text not null, system text not null, from_at text not null, to_at text, opened_by text);
create index if not exists cmp_holdings_at on cmp_holdings (tenant, subject, category, system, from_at);
create table if not exists cmp_holding_purposes (seq integer primary key, holding integer not null, purpose text not null, first_at text not null, unique (holding, purpose));
`;

interface HoldingRow { id: number; category: string; system: string; from_at: string; to_at: string | null; opened_by: string | null }

/**
 * The compliance state of every subject in `ledger.db`, one indexed row per fact: each question of the
 * rules is one ordered index lookup. Written inside the commit that records the facts.
 */
export class SqliteSubjectStore {
  private readonly s;

  /**
   * Open holdings (the latest of a category in a system, not erased), kept in memory by the writer's side
   * (`cacheHoldings`): most events touch a holding that is already open and need not read it again.
   */
  private readonly open = new Map<string, { row: HoldingRow; holding: Holding }>();

  /**
   * With `activity`, activity goes to that deferred index (the writer's side); without, straight to the
   * table. `cacheHoldings` only on the connection that writes them (call `forget` when a commit fails).
   */
  constructor(db: Db, private readonly activity?: ActivityIndex, private readonly cacheHoldings = false) {
    db.exec(SUBJECT_RECORDS_SCHEMA);
    db.exec(new ActivityIndex().schema);
    const p = (sql: string) => db.prepare(sql);
    this.s = {
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
    };
  }

  /** Every holding a subject ever had, in order. */
  subjectHoldings(tenant: string, subject: string): Holding[] {
    return (this.s.subjectHoldings.all(tenant, subject) as HoldingRow[]).map((r) => ({
      category: r.category, system: r.system, from: r.from_at, to: r.to_at, ...(r.opened_by ? { openedBy: r.opened_by } : {}),
      purposes: new Map((this.s.purposes.all(r.id) as Array<{ purpose: string; first_at: string }>).map((x) => [x.purpose, x.first_at])),
    }));
  }

  /** Holdings of a tenant in force at `at` (optionally of one subject), in id order after `afterId`. */
  holdingsAt(tenant: string, at: string, afterId: number, limit: number, subject?: string): Array<{ id: number; subject: string; holding: Holding }> {
    return (this.s.tenantHoldingsAt.all(tenant, afterId, at, at, subject ?? null, subject ?? null, limit) as Array<HoldingRow & { subject: string }>).map((r) => ({
      id: r.id, subject: r.subject,
      holding: {
        category: r.category, system: r.system, from: r.from_at, to: r.to_at, ...(r.opened_by ? { openedBy: r.opened_by } : {}),
        purposes: new Map((this.s.purposes.all(r.id) as Array<{ purpose: string; first_at: string }>).map((x) => [x.purpose, x.first_at])),
      },
    }));
  }

  /** Forgets the holdings kept in memory (a commit failed). */
  forget(): void {
    this.open.clear();
  }

  records(tenant: string, subject: string): SubjectRecords {
    const s = this.s;
    const holding = (r: HoldingRow): Holding => ({
      category: r.category, system: r.system, from: r.from_at, to: r.to_at, ...(r.opened_by ? { openedBy: r.opened_by } : {}),
      purposes: new Map((s.purposes.all(r.id) as Array<{ purpose: string; first_at: string }>).map((x) => [x.purpose, x.first_at])),
    });
    const key = (category: string, system: string) => `${tenant}\u0000${subject}\u0000${category}\u0000${system}`;
    const found = (category: string, system: string, at: string): { row: HoldingRow; holding: Holding } | undefined => {
      const k = key(category, system);
      const kept = this.open.get(k);
      if (kept && kept.row.from_at <= at) return kept;
      const row = s.holdingAt.get(tenant, subject, category, system, at, at) as HoldingRow | undefined;
      if (!row) return undefined;
      const h = { row, holding: holding(row) };
      if (this.cacheHoldings && row.to_at === null) {
        if (this.open.size >= 200_000) this.open.delete(this.open.keys().next().value as string);
        this.open.set(k, h);
      }
      return h;
    };
    const changed = (category: string, system: string) => this.open.delete(key(category, system));
    const rowAt = (category: string, system: string, at: string) => found(category, system, at)?.row;
    return {
      consentAt: (purpose, at) => { const g = s.consentAt.get(tenant, subject, purpose, at) as number | undefined; return g === undefined ? undefined : g === 1; },
      setConsent: (purpose, at, given) => void s.setConsent.run(tenant, subject, purpose, at, given ? 1 : 0),
      restrictedAt: (at) => { const r = s.restrictedAt.get(tenant, subject, at) as number | undefined; return r === undefined ? undefined : r === 1; },
      setRestricted: (at, restricted) => void s.setRestricted.run(tenant, subject, at, restricted ? 1 : 0),
      objectedAt: (purpose, at) => s.objectedAt.get(tenant, subject, purpose, at) !== undefined,
      addObjection: (purpose, at) => void s.addObjection.run(tenant, subject, purpose, at),
      lastActivity: (at) => {
        const stored = s.lastActivity.get(tenant, subject, at) as string | undefined;
        const unwritten = this.activity?.latest(tenant, subject, at);
        return unwritten !== undefined && (stored === undefined || unwritten > stored) ? unwritten : stored;
      },
      addActivity: (at) => (this.activity ? this.activity.note(tenant, subject, at) : void s.addActivity.run(tenant, subject, at)),
      holdingAt: (category, system, at) => found(category, system, at)?.holding,
      openHolding: (category, system, at, purpose, openedBy) => {
        changed(category, system);
        const id = s.open.run(tenant, subject, category, system, at, openedBy ?? null).lastInsertRowid;
        s.addPurpose.run(id, purpose, at);
      },
      closeHolding: (category, system, at) => { const r = rowAt(category, system, at); changed(category, system); if (r) s.close.run(at, r.id); },
      addPurpose: (category, system, at, purpose) => { const r = rowAt(category, system, at); changed(category, system); if (r) s.addPurpose.run(r.id, purpose, at); },
      categoryAt: (category, at) => { const r = s.categoryAt.get(at, at, tenant, subject, category) as { ever: number; now: number }; return { everHeld: r.ever > 0, heldAt: r.now > 0 }; },
      holdingsAt: (at) => (s.holdingsAt.all(tenant, subject, at, at) as HoldingRow[]).map(holding),
    };
  }
}
