import { formatInstant, sortableInstant } from '../../common/kernel/time.js';
import { applyFact, MemorySubjectRecords, retentionAt } from '../../compliance/domain/subject-state.js';
import { erasureStatus } from '../../compliance/domain/erasure.js';
import { residencyCountries } from '../../compliance/domain/reference-data.js';
import type { PurposeBody, RecipientBody, SystemBody } from '../../declarations/domain/declaration.js';
import type { ProcessingEvent } from '../../ledger/domain/processing-event.js';
import type { AuthorityRequestView, SubjectRequestView } from '../../requests/requests-read-model.port.js';

/** One event of the subject's history, as the report shows it (identifiers opened, or `[erased]`). */
export interface HistoryItem {
  readonly position: number;
  readonly hash: string;
  readonly recordedAt: string;
  readonly event: ProcessingEvent;
}

/** What the report is built from: the subject's history and requests, and the declarations of the moment. */
export interface ReportInput {
  readonly tenant: { readonly id: string; readonly name: string; readonly residency: readonly string[] };
  readonly subject: string;
  readonly generatedAt: string;
  /** The moment the report answers for (`asOf`), null for now. */
  readonly asOf: string | null;
  /** History in log order, already cut at `asOf`, without what sealed authority requests withhold. */
  readonly history: readonly HistoryItem[];
  readonly purpose: (id: string) => PurposeBody | null;
  readonly system: (id: string) => SystemBody | null;
  readonly recipient: (id: string) => RecipientBody | null;
  readonly subjectRequests: readonly SubjectRequestView[];
  /** Authority requests naming the subject that are not under seal. */
  readonly authorityRequests: readonly AuthorityRequestView[];
}

export const SAFEGUARDS: Readonly<Record<string, string>> = {
  adequacy: 'adequacy decision (GDPR Art. 45)',
  scc: 'standard contractual clauses (GDPR Art. 46(2)(c))',
  bcr: 'binding corporate rules (GDPR Art. 47)',
  derogation: 'derogation for a specific situation (GDPR Art. 49)',
  none: 'none recorded',
};

/** The rights a report must remind the person of (Art. 15(1)(e), (f)). */
export const RIGHTS = [
  { article: '16', right: 'rectification', text: 'ask for inaccurate data to be corrected' },
  { article: '17', right: 'erasure', text: 'ask for the data to be erased' },
  { article: '18', right: 'restriction', text: 'ask for processing to be restricted' },
  { article: '21', right: 'objection', text: 'object to processing based on legitimate interests or for direct marketing' },
  { article: '77', right: 'complaint', text: 'lodge a complaint with a supervisory authority' },
] as const;

const range = (m: Map<string, { first: string; last: string }>, key: string, at: string) => {
  const r = m.get(key);
  if (!r) m.set(key, { first: at, last: at });
  else { if (at < r.first) r.first = at; if (at > r.last) r.last = at; }
};
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();
const show = (sortable: string) => formatInstant(new Date(sortable));

/**
 * The Art. 15 report of one subject (15(1)(a)–(h), 15(2)), folded from its history: purposes with their
 * legal basis, categories, recipients (with country), third-country transfers with their safeguard,
 * retention per category (period or criterion, and where each holding stands), sources, consents with
 * their history, requests, and every event.
 */
export function subjectReport(input: ReportInput) {
  const { history } = input;
  const residency = residencyCountries(input.tenant.residency);
  const at = sortableInstant(input.asOf ?? input.generatedAt);
  const purposeUse = new Map<string, { categories: Set<string>; first: string; last: string }>();
  const categoryUse = new Map<string, { purposes: Set<string>; systems: Set<string>; first: string; last: string }>();
  const recipients = new Map<string, { categories: Set<string>; purposes: Set<string>; disclosures: number; first: string; last: string; requests: Set<string> }>();
  const transfers: Array<Record<string, unknown>> = [];
  const sources: Array<Record<string, unknown>> = [];
  const consents = new Map<string, Array<{ status: 'given' | 'withdrawn'; at: string; noticeVersion?: string; method?: string; eventId: string }>>();
  const identifiers = new Map<string, { kind: string; value: string; firstSeen: string; lastSeen: string }>();
  const records = new MemorySubjectRecords();
  const seenAt = new Map<string, { first: string; last: string }>();

  for (const { event: e } of history) {
    const when = sortableInstant(e.occurredAt);
    const pu = purposeUse.get(e.purpose) ?? { categories: new Set<string>(), first: when, last: when };
    for (const c of e.categories) pu.categories.add(c);
    if (when < pu.first) pu.first = when;
    if (when > pu.last) pu.last = when;
    purposeUse.set(e.purpose, pu);
    for (const c of e.categories) {
      const cu = categoryUse.get(c) ?? { purposes: new Set<string>(), systems: new Set<string>(), first: when, last: when };
      cu.purposes.add(e.purpose);
      cu.systems.add(e.system);
      if (when < cu.first) cu.first = when;
      if (when > cu.last) cu.last = when;
      categoryUse.set(c, cu);
    }
    for (const [kind, value] of Object.entries(e.subject.identifiers ?? {})) {
      const k = `${kind}\u0000${value}`;
      range(seenAt, k, when);
      const r = seenAt.get(k)!;
      identifiers.set(k, { kind, value, firstSeen: r.first, lastSeen: r.last });
    }
    const d = e.details ?? {};
    const recipient = typeof d.recipient === 'string' ? d.recipient : null;
    if (recipient && (e.type === 'disclosed' || e.type === 'transferred')) {
      const r = recipients.get(recipient) ?? { categories: new Set<string>(), purposes: new Set<string>(), disclosures: 0, first: when, last: when, requests: new Set<string>() };
      for (const c of e.categories) r.categories.add(c);
      r.purposes.add(e.purpose);
      r.disclosures++;
      if (when < r.first) r.first = when;
      if (when > r.last) r.last = when;
      if (typeof d.authorityRequestId === 'string') r.requests.add(d.authorityRequestId);
      recipients.set(recipient, r);
      const decl = input.recipient(recipient);
      if (e.type === 'disclosed' && decl && !residency.has(decl.country)) {
        transfers.push({ eventId: e.eventId, occurredAt: e.occurredAt, kind: 'disclosure', country: decl.country, recipient, categories: e.categories, purpose: e.purpose, safeguard: null, safeguardText: 'none recorded for this disclosure' });
      }
    }
    if (e.type === 'transferred') {
      const mechanism = String(d.mechanism);
      transfers.push({ eventId: e.eventId, occurredAt: e.occurredAt, kind: 'transfer', country: d.country, ...(recipient ? { recipient } : {}), categories: e.categories, purpose: e.purpose, safeguard: mechanism, safeguardText: SAFEGUARDS[mechanism] ?? mechanism });
    }
    if (e.type === 'stored') {
      const country = typeof d.country === 'string' ? d.country : input.system(e.system)?.country;
      if (country && !residency.has(country)) {
        transfers.push({ eventId: e.eventId, occurredAt: e.occurredAt, kind: 'storage', country, system: e.system, categories: e.categories, purpose: e.purpose, safeguard: null, safeguardText: 'none recorded: stored in a system outside the residency' });
      }
    }
    if (e.type === 'collected') {
      sources.push({ eventId: e.eventId, occurredAt: e.occurredAt, source: typeof d.source === 'string' ? d.source : 'not recorded', categories: e.categories, system: e.system, purpose: e.purpose });
    }
    if (e.type === 'consent-given' || e.type === 'consent-withdrawn') {
      const list = consents.get(e.purpose) ?? [];
      list.push({ status: e.type === 'consent-given' ? 'given' : 'withdrawn', at: e.occurredAt, eventId: e.eventId,
        ...(typeof d.noticeVersion === 'string' ? { noticeVersion: d.noticeVersion } : {}), ...(typeof d.method === 'string' ? { method: d.method } : {}) });
      consents.set(e.purpose, list);
    }
    applyFact(records, { eventId: e.eventId, type: e.type, subject: e.subject.id, categories: e.categories, purpose: e.purpose, system: e.system, occurredAt: e.occurredAt, ...(e.details ? { details: e.details } : {}) });
  }

  const lookup = (p: string) => input.purpose(p);
  const held = retentionAt(records, at, lookup);
  const heldKeys = new Set(held.map((h) => `${h.holding.category}\u0000${h.holding.system}`));
  const erasure = erasureStatus(held.map((h) => h.holding), at, lookup, (t) => records.lastActivity(t));
  const holdsUntil = new Map(erasure.flatMap((s) => (s.status === 'held' ? [[s.system, s] as const] : [])));

  return {
    controller: { id: input.tenant.id, name: input.tenant.name },
    subject: {
      id: input.subject,
      identifiers: [...identifiers.values()].sort((a, b) => (a.kind + a.value < b.kind + b.value ? -1 : 1)).map((i) => ({ ...i, firstSeen: show(i.firstSeen), lastSeen: show(i.lastSeen) })),
    },
    generatedAt: input.generatedAt,
    asOf: input.asOf,
    purposes: [...purposeUse].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, u]) => {
      const p = input.purpose(id);
      return {
        id, declared: p !== null, title: p?.title ?? null, legalBasis: p?.legalBasis ?? null, ...(p?.lawReference ? { lawReference: p.lawReference } : {}),
        categories: sorted(u.categories), firstAt: show(u.first), lastAt: show(u.last),
      };
    }),
    categories: [...categoryUse].sort(([a], [b]) => (a < b ? -1 : 1)).map(([category, u]) => ({
      category, purposes: sorted(u.purposes), systems: sorted(u.systems).map((s) => { const d = input.system(s); return { id: s, name: d?.name ?? null, country: d?.country ?? null }; }),
      firstAt: show(u.first), lastAt: show(u.last), heldNow: [...u.systems].some((s) => heldKeys.has(`${category}\u0000${s}`)),
    })),
    recipients: [...recipients].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, r]) => {
      const d = input.recipient(id);
      return {
        id, declared: d !== null, name: d?.name ?? null, kind: d?.kind ?? null, country: d?.country ?? null, thirdCountry: d ? !residency.has(d.country) : null,
        categories: sorted(r.categories), purposes: sorted(r.purposes), disclosures: r.disclosures, firstAt: show(r.first), lastAt: show(r.last),
        ...(r.requests.size ? { authorityRequests: sorted(r.requests) } : {}),
      };
    }),
    transfers,
    retention: held.map(({ holding: h, deadline, status }) => {
      const rules = [...h.purposes.keys()].sort().map((purpose) => ({ purpose, rule: input.purpose(purpose)?.retention ?? null }));
      const hold = holdsUntil.get(h.system);
      return {
        category: h.category, system: h.system, heldSince: show(h.from), purposes: rules.map((r) => r.purpose),
        rules, deadline: deadline === null ? null : formatInstant(new Date(deadline)), status,
        criterion: deadline === null ? 'kept as long as the purpose requires (no fixed period declared)' : 'the longest period of the purposes it is kept for',
        ...(hold && hold.categories.includes(h.category) ? { legalHold: { purpose: hold.purpose, legalBasis: hold.legalBasis, until: formatInstant(new Date(hold.until)) } } : {}),
      };
    }),
    sources,
    consents: [...consents].sort(([a], [b]) => (a < b ? -1 : 1)).map(([purpose, list]) => ({ purpose, status: list[list.length - 1]!.status, history: list })),
    requests: [
      ...input.subjectRequests.map((r) => ({ kind: 'subject' as const, ...r })),
      ...input.authorityRequests.map((r) => ({ kind: 'authority' as const, id: r.id, authority: r.authority, reference: r.reference, legalBasis: r.legalBasis, receivedAt: r.receivedAt, decision: r.decision, decidedAt: r.decidedAt, closedAt: r.closedAt })),
    ],
    rights: RIGHTS,
    history,
  };
}
export type SubjectReport = ReturnType<typeof subjectReport>;
