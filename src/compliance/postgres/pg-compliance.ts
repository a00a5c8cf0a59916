import type pg from 'pg';
import { formatInstant, sortableInstant } from '../../common/kernel/time.js';
import { arrayLiteral, insertStatement, lookUpEach } from '../../common/postgres/rows.js';
import { KIND_OF_ENTRY, type DeclarationKind, type PurposeBody, type RecipientBody, type SystemBody } from '../../declarations/domain/declaration.js';
import { shredPlan, type ShredStep } from '../../keys/domain/shredding.js';
import { isProcessingEntry } from '../../ledger/domain/log-entry.js';
import { tenantStream } from '../../ledger/domain/streams.js';
import { DEFAULT_RESIDENCY, residencyOf } from '../../tenancy/domain/tenant.js';
import { entryOf, residencyDeclaredIn } from '../../ledger/entry-of.js';
import type { PgProjection } from '../../ledger/postgres/pg-projection.js';
import type { ComplianceStateReader, DecisionJudge } from '../compliance-state.port.js';
import type { FindingFilter, FindingsReadModel, StoredFinding } from '../findings-read-model.port.js';
import type { RetentionItem, RetentionReadModel } from '../retention-read-model.port.js';
import { erasureStatus, type SystemErasure } from '../domain/erasure.js';
import type { Finding, FindingCode, Severity } from '../domain/finding.js';
import { authorityRequestAt, factOf, judge, needs, retentionUnbounded, type Fact, type Policy } from '../domain/rules.js';
import { applyFact, holdingStatus, MemorySubjectRecords, subjectFacts, type PurposeLookup, type RetentionStatus, type SubjectSnapshot } from '../domain/subject-state.js';
import { pushTo } from '../../common/kernel/multimap.js';

type Db = pg.ClientBase | pg.Pool;
const key = (tenant: string, subject: string) => `${tenant}\u0000${subject}`;

/**
 * The declarations and residencies of some tenants, as they stood just before a given log position of
 * each (the first entry of a commit, or of a rebuild's batch); the commit's own declarations are then
 * applied in log order (`declare`, `reside`), so each event is judged against what was in force before it.
 */
class Policies {
  private constructor(private readonly declared: Map<string, unknown>, private readonly residencies: Map<string, readonly string[]>) {}

  static async before(db: Db, firsts: ReadonlyMap<string, number>): Promise<Policies> {
    return (await Policies.withSubjects(db, firsts, [])).policies;
  }

  /**
   * `before`, and the documents of some subjects, in one query (one round trip of the append's
   * transaction, which holds the append lock): each tenant's declarations in force, its tenants row, and
   * the subjects' documents, told apart by their first column.
   */
  static async withSubjects(db: Db, firsts: ReadonlyMap<string, number>, pairs: ReadonlyArray<readonly [string, string]>): Promise<{ policies: Policies; subjects: Map<string, MemorySubjectRecords> }> {
    type Row = { part: 'declared' | 'tenant' | 'subject'; tenant: string; a: string | null; b: string | null; doc: string; position: string | null };
    // Each subject's document read by its primary key whatever the statistics say (`lookUpEach`): as a join,
    // the planner of a table never analysed read every subject's, under the append lock.
    const unique = [...new Map(pairs.map((p) => [key(p[0], p[1]), p] as const)).values()];
    const { rows } = await db.query<Row>(
      `select 'declared' as part, f.tenant, d.kind as a, d.id as b, d.body::text as doc, null::bigint as position
         from unnest($1::text[], $2::bigint[]) as f(tenant, first)
         cross join lateral (select distinct on (kind, id) kind, id, body from declarations where tenant = f.tenant and position < f.first order by kind, id, version desc) d
       union all
       select 'tenant', t.id, null, null, t.residency::text, t.position from tenants t join unnest($1::text[]) as f(tenant) on t.id = f.tenant
       union all
       select 'subject', c.tenant, c.subject, null, c.state, null from ${lookUpEach({ t: '$3::text[]', s: '$4::text[]' }, 'c', 'select * from cmp_subjects where tenant = t and subject = s limit 1')}`,
      [arrayLiteral([...firsts.keys()]), arrayLiteral([...firsts.values()]), arrayLiteral(unique.map(([t]) => t)), arrayLiteral(unique.map(([, s]) => s))]);
    const declared = new Map<string, unknown>();
    const residencies = new Map<string, readonly string[]>();
    const subjects = new Map<string, MemorySubjectRecords>();
    const tenantRows = new Map<string, { residency: readonly string[]; position: number }>();
    for (const r of rows) {
      if (r.part === 'declared') declared.set(`${r.tenant}\u0000${r.a}\u0000${r.b}`, JSON.parse(r.doc));
      else if (r.part === 'tenant') tenantRows.set(r.tenant, { residency: JSON.parse(r.doc) as string[], position: Number(r.position) });
      else subjects.set(key(r.tenant, r.a!), MemorySubjectRecords.restore(JSON.parse(r.doc) as SubjectSnapshot));
    }
    for (const [tenant, first] of firsts) residencies.set(tenant, await residencyBefore(db, tenant, first, tenantRows.get(tenant)));
    return { policies: new Policies(declared, residencies), subjects };
  }

  /** As they stand now (a decision asked by a request). */
  static now(db: Db, tenant: string): Promise<Policies> {
    return Policies.before(db, new Map([[tenant, Number.MAX_SAFE_INTEGER]]));
  }

  declare(tenant: string, kind: DeclarationKind, id: string, body: unknown): void {
    this.declared.set(`${tenant}\u0000${kind}\u0000${id}`, body);
  }

  reside(tenant: string, residency: readonly string[]): void {
    this.residencies.set(tenant, residency);
  }

  body<B>(tenant: string, kind: DeclarationKind, id: string): B | null {
    return (this.declared.get(`${tenant}\u0000${kind}\u0000${id}`) as B | undefined) ?? null;
  }

  purposes(tenant: string): PurposeLookup {
    return (p) => this.body<PurposeBody>(tenant, 'purposes', p);
  }

  policy(tenant: string, fact: Fact): Policy {
    const recipient = typeof fact.details?.recipient === 'string' ? fact.details.recipient : null;
    return {
      residency: this.residencies.get(tenant) ?? DEFAULT_RESIDENCY,
      purpose: this.body<PurposeBody>(tenant, 'purposes', fact.purpose),
      system: this.body<SystemBody>(tenant, 'systems', fact.system),
      recipient: recipient ? this.body<RecipientBody>(tenant, 'recipients', recipient) : null,
    };
  }
}

/**
 * The tenant's residency just before log position `before`, from its tenants row (`row`, as read with the
 * declarations): the row's, or when the row was written at or after `before`, the declaration before it.
 */
async function residencyBefore(db: Db, tenant: string, before: number, row: { residency: readonly string[]; position: number } | undefined): Promise<readonly string[]> {
  if (!row) return DEFAULT_RESIDENCY;
  if (row.position < before) return row.residency;
  const { rows } = await db.query<{ data: Buffer }>("select data from events where stream = $1 and type = 'tenant-declared' and revision < $2 order by revision desc limit 1", [tenantStream(tenant), before]);
  return residencyDeclaredIn(rows[0]?.data);
}

/** The compliance state of some subjects (one document each), as `MemorySubjectRecords`: the subjects' part of `Policies.withSubjects`. */
export async function loadSubjects(db: Db, pairs: ReadonlyArray<readonly [string, string]>): Promise<Map<string, MemorySubjectRecords>> {
  if (pairs.length === 0) return new Map();
  return (await Policies.withSubjects(db, new Map(), pairs)).subjects;
}

async function authorityRequests(db: Db, refs: ReadonlyArray<readonly [string, string]>) {
  type Row = { tenant: string; id: string; authority: string; decision: 'comply' | 'refuse' | null; position: number; decided_position: number | null };
  const out = new Map<string, Row>();
  if (refs.length === 0) return out;
  const { rows } = await db.query<Row>(
    `select a.tenant, a.id, a.authority, a.decision, a.position, a.decided_position from ${lookUpEach({ t: '$1::text[]', i: '$2::text[]' }, 'a', 'select * from authority_requests where tenant = t and id = i limit 1')}`,
    [arrayLiteral(refs.map(([t]) => t)), arrayLiteral(refs.map(([, i]) => i))]);
  for (const r of rows) out.set(key(r.tenant, r.id), r);
  return out;
}

const authorityRef = (fact: Fact) => (fact.type === 'disclosed' && typeof fact.details?.authorityRequestId === 'string' ? fact.details.authorityRequestId : null);

const FINDING_COLUMNS = [['tenant', 'text'], ['position', 'bigint'], ['event_id', 'text'], ['subject', 'text'], ['code', 'text'], ['severity', 'text'], ['message', 'text'],
  ['occurred_at', 'text'], ['recorded_at', 'text']] as const;

/**
 * The compliance engine on PostgreSQL, inside each append: the subjects a commit touches are read once
 * (one document each), every processing event is judged against the declarations in force and the
 * subject's state before it, then folded in; the documents and the findings are written back in the
 * same transaction. Nothing is cached between commits, so several ledger processes can share the database.
 */
export function pgComplianceProjection(): PgProjection {
  return {
    name: 'compliance',
    tables: ['cmp_subjects', 'findings'],
    async apply(tx, events, writes) {
      const entries = events.map(({ recorded, context }) => entryOf(recorded, context));
      const processing = entries.filter(isProcessingEntry);
      if (processing.length === 0 && !entries.some((e) => e.type === 'purpose-declared')) return;
      const facts = new Map(processing.map((e) => [e, factOf(e)] as const));
      const pairs = [...new Map(processing.map((e) => [key(e.tenant, e.subject.id), [e.tenant, e.subject.id] as const])).values()];
      const refs = [...facts].flatMap(([e, fact]) => { const r = authorityRef(fact); return r ? [[e.tenant, r] as const] : []; });
      const firsts = new Map<string, number>();
      for (const e of entries) if (!firsts.has(e.tenant)) firsts.set(e.tenant, e.position);
      // One connection (the append's transaction) answers one query at a time: the policies and the subjects' documents come in one.
      const { policies, subjects } = await Policies.withSubjects(tx, firsts, pairs);
      const requests = await authorityRequests(tx, refs);
      const findings: unknown[][] = [];
      const said = new Map<string, Finding[]>();
      for (const e of entries) {
        if (e.type === 'tenant-declared') policies.reside(e.tenant, residencyOf(e.settings));
        if (e.type === 'purpose-declared' || e.type === 'system-declared' || e.type === 'recipient-declared') {
          policies.declare(e.tenant, KIND_OF_ENTRY[e.type], e.declaration.id, e.declaration.body);
          const f = e.type === 'purpose-declared' ? retentionUnbounded(e.declaration.id, e.declaration.body) : null;
          if (f) findings.push([e.tenant, e.position, e.eventId, null, f.code, f.severity, f.message, null, sortableInstant(e.recordedAt)]);
        }
        if (!isProcessingEntry(e)) continue;
        const fact = facts.get(e)!;
        const k = key(e.tenant, e.subject.id);
        let records = subjects.get(k);
        if (!records) subjects.set(k, (records = new MemorySubjectRecords()));
        const policy = policies.policy(e.tenant, fact);
        const ref = authorityRef(fact);
        const found = judge(fact, policy, subjectFacts(records, fact, policies.purposes(e.tenant), ref ? authorityRequestAt(requests.get(key(e.tenant, ref)), e.position) : null, needs(fact, policy)));
        applyFact(records, fact);
        if (found.length === 0) continue;
        said.set(e.eventId, found);
        for (const f of found) findings.push([e.tenant, e.position, e.eventId, e.subject.id, f.code, f.severity, f.message, sortableInstant(e.occurredAt), sortableInstant(e.recordedAt)]);
      }
      // Findings in log order (ids are the order they were raised).
      findings.sort((a, b) => (a[1] as number) - (b[1] as number));
      writes.add(insertStatement('findings', FINDING_COLUMNS, findings));
      writes.add(insertStatement('cmp_subjects', [['tenant', 'text'], ['subject', 'text'], ['state', 'json']],
        pairs.map(([t, s]) => [t, s, JSON.stringify(subjects.get(key(t, s))!.snapshot())]), 'on conflict (tenant, subject) do update set state = excluded.state'));
      return said;
    },
  };
}

interface FindingRow { id: number; position: number; event_id: string; subject: string | null; code: FindingCode; severity: Severity; message: string; occurred_at: string | null; recorded_at: string }
const toFinding = (r: FindingRow): StoredFinding => ({
  id: r.id, code: r.code, severity: r.severity, message: r.message, eventId: r.event_id, position: r.position, subject: r.subject, occurredAt: r.occurred_at, recordedAt: r.recorded_at,
});

/** Findings raised when events were recorded, in the order raised. */
export class PgFindings implements FindingsReadModel {
  constructor(private readonly pool: pg.Pool) {}

  async page(tenant: string, filter: FindingFilter, afterId: number, limit: number): Promise<StoredFinding[]> {
    const args: unknown[] = [tenant, afterId];
    const arg = (v: unknown) => `$${args.push(v)}`;
    const where = ['tenant = $1', 'id > $2'];
    if (filter.code !== undefined) where.push(`code = ${arg(filter.code)}`);
    if (filter.severity !== undefined) where.push(`severity = ${arg(filter.severity)}`);
    if (filter.subject !== undefined) where.push(`subject = ${arg(filter.subject)}`);
    if (filter.from !== undefined) where.push(`occurred_at >= ${arg(filter.from)}`);
    if (filter.to !== undefined) where.push(`occurred_at < ${arg(filter.to)}`);
    return (await this.pool.query<FindingRow>(`select * from findings where ${where.join(' and ')} order by id limit ${arg(limit)}`, args)).rows.map(toFinding);
  }

  /** The findings each of `eventIds` raised when it was recorded (as the append answer gave them). */
  async ofEvents(tenant: string, eventIds: readonly string[]): Promise<Map<string, Finding[]>> {
    const out = new Map<string, Finding[]>();
    // Each id looked up in the (tenant, event_id) index whatever the statistics say (`lookUpEach`).
    const { rows } = await this.pool.query<FindingRow>(`select f.* from ${lookUpEach({ k: '$2::text[]' }, 'f', 'select * from findings where tenant = $1 and event_id = k')} order by f.id`, [tenant, [...new Set(eventIds)]]);
    for (const r of rows) pushTo(out, r.event_id, { code: r.code, severity: r.severity, message: r.message });
    return out;
  }
}

/** Holding ids for paging: the subject's document number, then the holding's place in it. */
const HOLDINGS_PER_SUBJECT = 65_536;
const SUBJECTS_PER_READ = 200;

/** What is held, until when, and what may be erased, from the subjects' documents; and the decision point's what-if. */
export class PgComplianceState implements RetentionReadModel, ComplianceStateReader, DecisionJudge {
  constructor(private readonly pool: pg.Pool) {}

  private async subject(tenant: string, subject: string): Promise<MemorySubjectRecords> {
    return (await loadSubjects(this.pool, [[tenant, subject]])).get(key(tenant, subject)) ?? new MemorySubjectRecords();
  }

  async erasureStatus(tenant: string, subject: string, at: string): Promise<SystemErasure[]> {
    const [records, policies] = await Promise.all([this.subject(tenant, subject), Policies.now(this.pool, tenant)]);
    return erasureStatus(records.allHoldings(), at, policies.purposes(tenant), (t) => records.lastActivity(t))
      .map((s) => (s.status === 'held' ? { ...s, until: formatInstant(new Date(s.until)) } : s));
  }

  async shredPlan(tenant: string, subject: string, categories: readonly string[], at: string, whole: 'erasure-request' | 'subject-forgotten' | null, heldBefore: ReadonlySet<string>): Promise<ShredStep[]> {
    const [records, policies] = await Promise.all([this.subject(tenant, subject), Policies.now(this.pool, tenant)]);
    return shredPlan(categories, records.allHoldings(), at, policies.purposes(tenant), (t) => records.lastActivity(t), whole, heldBefore)
      .map((s) => (s.action === 'hold' ? { ...s, until: sortableInstant(s.until) } : s));
  }

  async judge(tenant: string, fact: Fact): Promise<Finding[]> {
    const ref = authorityRef(fact);
    const [records, policies, requests] = await Promise.all([this.subject(tenant, fact.subject), Policies.now(this.pool, tenant), authorityRequests(this.pool, ref ? [[tenant, ref]] : [])]);
    const policy = policies.policy(tenant, fact);
    return judge(fact, policy, subjectFacts(records, fact, policies.purposes(tenant), ref ? authorityRequestAt(requests.get(key(tenant, ref)), Infinity) : null, needs(fact, policy)));
  }

  async page(tenant: string, at: string, filter: { status?: RetentionStatus; subject?: string }, afterId: number, limit: number, dueSoonDays: number): Promise<Array<RetentionItem & { id: number }>> {
    const policies = await Policies.now(this.pool, tenant);
    const out: Array<RetentionItem & { id: number }> = [];
    for (let fromSeq = Math.floor(afterId / HOLDINGS_PER_SUBJECT); out.length < limit;) {
      const { rows } = await this.pool.query<{ seq: number; subject: string; state: string }>(
        `select seq, subject, state from cmp_subjects where tenant = $1 and seq >= $2 and ($3::text is null or subject = $3) order by seq limit ${SUBJECTS_PER_READ}`,
        [tenant, fromSeq, filter.subject ?? null]);
      for (const { seq, subject, state } of rows) {
        const records = MemorySubjectRecords.restore(JSON.parse(state) as SubjectSnapshot);
        for (const [i, h] of records.allHoldings().entries()) {
          const id = seq * HOLDINGS_PER_SUBJECT + i;
          if (id <= afterId || !(h.from <= at && (h.to === null || h.to > at))) continue;
          const s = holdingStatus(records, h, at, policies.purposes(tenant), dueSoonDays);
          if (!s || (filter.status && s.status !== filter.status)) continue;
          out.push({
            id, subject, category: h.category, system: h.system, heldSince: formatInstant(new Date(h.from)), ...(h.openedBy ? { openedBy: h.openedBy } : {}),
            purposes: [...h.purposes.keys()].sort(), deadline: s.deadline === null ? null : formatInstant(new Date(s.deadline)), status: s.status,
          });
          if (out.length === limit) return out;
        }
      }
      if (rows.length < SUBJECTS_PER_READ) break;
      fromSeq = rows[rows.length - 1]!.seq + 1;
    }
    return out;
  }
}
