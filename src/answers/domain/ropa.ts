import { residencyCountries } from '../../compliance/domain/reference-data.js';
import type { Declared, PurposeBody, RecipientBody, SystemBody } from '../../declarations/domain/declaration.js';
import type { ObservedProcessing } from '../answers-read-model.port.js';
import { SAFEGUARDS } from './subject-report.js';
import { pushTo } from '../../common/kernel/multimap.js';

/** The kind of a subject: its id's prefix before `:` (`visitor:8f3a` is a visitor), or none. */
export const subjectKind = (subject: string): string => {
  const colon = subject.indexOf(':');
  return colon > 0 ? subject.slice(0, colon) : '';
};

export interface RopaInput {
  readonly tenant: { readonly id: string; readonly name: string; readonly residency: readonly string[] };
  readonly generatedAt: string;
  readonly asOf: string | null;
  readonly purposes: ReadonlyArray<Declared<PurposeBody>>;
  readonly systems: ReadonlyArray<Declared<SystemBody>>;
  readonly recipients: ReadonlyArray<Declared<RecipientBody>>;
  readonly observed: readonly ObservedProcessing[];
  readonly subjects: ReadonlyArray<{ readonly purpose: string; readonly kind: string; readonly subjects: number }>;
}

const SENDS = new Set(['disclosed', 'transferred']);
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

/** A retention rule in words, for the register (Art. 30(1)(f)). */
export function retentionText(r: PurposeBody['retention']): string {
  const from = r.from === 'collection' ? 'from collection' : 'from the last activity';
  const base = r.period === null ? `no fixed period (kept while the purpose requires)` : `${r.period} ${from}`;
  return r.minimum ? `${base}; at least ${r.minimum} by law` : base;
}

/**
 * The records of processing activities (GDPR Art. 30(1)(a)–(g)), one per declared purpose, from the
 * declarations *and* what the events show: categories of data and of subjects, recipients by kind,
 * transfers with their safeguards, retention, systems and countries. `undeclared` lists what was
 * observed but never declared, per purpose × category × recipient, with why.
 */
export function recordsOfProcessing(input: RopaInput) {
  const residency = residencyCountries(input.tenant.residency);
  const purposes = new Map(input.purposes.map((p) => [p.id, p.body]));
  const systems = new Map(input.systems.map((s) => [s.id, s.body]));
  const recipients = new Map(input.recipients.map((r) => [r.id, r.body]));
  const byPurpose = new Map<string, ObservedProcessing[]>();
  for (const o of input.observed) pushTo(byPurpose, o.purpose, o);
  const counts = new Map<string, Array<{ kind: string; subjects: number }>>();
  for (const c of input.subjects) pushTo(counts, c.purpose, { kind: c.kind, subjects: c.subjects });

  const records = input.purposes.map(({ id, body: p }) => {
    const seen = byPurpose.get(id) ?? [];
    const systemIds = sorted(seen.map((o) => o.system));
    const countries = new Set<string>();
    for (const s of systemIds) { const c = systems.get(s)?.country; if (c) countries.add(c); }
    for (const o of seen) if (o.country) countries.add(o.country);
    const byKind: Record<string, Array<{ id: string; name: string | null; country: string | null }>> = {};
    for (const r of sorted(seen.filter((o) => SENDS.has(o.type) && o.recipient).map((o) => o.recipient!))) {
      const d = recipients.get(r);
      (byKind[d?.kind ?? 'undeclared'] ??= []).push({ id: r, name: d?.name ?? null, country: d?.country ?? null });
    }
    const transfers = new Map<string, { country: string; mechanism: string | null; safeguard: string; recipient: string | null; via: string }>();
    const transfer = (t: { country: string; mechanism: string | null; recipient: string | null; via: string }) =>
      transfers.set(`${t.country}|${t.mechanism}|${t.recipient}|${t.via}`, { ...t, safeguard: t.mechanism ? SAFEGUARDS[t.mechanism] ?? t.mechanism : 'none recorded' });
    for (const o of seen) {
      if (o.type === 'transferred' && o.country) transfer({ country: o.country, mechanism: o.mechanism, recipient: o.recipient, via: 'transfer' });
      if (o.type === 'disclosed' && o.recipient) {
        const c = recipients.get(o.recipient)?.country;
        if (c && !residency.has(c)) transfer({ country: c, mechanism: null, recipient: o.recipient, via: 'disclosure' });
      }
      if (o.type === 'stored') {
        const c = o.country ?? systems.get(o.system)?.country;
        if (c && !residency.has(c)) transfer({ country: c, mechanism: null, recipient: null, via: `storage in ${o.system}` });
      }
    }
    const kinds = counts.get(id) ?? [];
    return {
      id, title: p.title, legalBasis: p.legalBasis, ...(p.lawReference ? { lawReference: p.lawReference } : {}),
      categories: [...p.categories], observedCategories: sorted(seen.map((o) => o.category)),
      subjectsCount: kinds.reduce((n, k) => n + k.subjects, 0),
      subjectCategories: kinds.map((k) => ({ kind: k.kind || 'unnamed', subjects: k.subjects })),
      recipients: byKind,
      transfers: [...transfers.values()],
      retention: { ...p.retention, text: retentionText(p.retention) },
      systems: systemIds.map((s) => ({ id: s, name: systems.get(s)?.name ?? null, country: systems.get(s)?.country ?? null, declared: systems.has(s) })),
      countries: [...countries].sort(),
    };
  });

  const undeclared = new Map<string, { purpose: string; category: string; recipient: string | null; systems: Set<string>; types: Set<string>; reasons: Set<string>; firstPosition: number }>();
  for (const o of input.observed) {
    const p = purposes.get(o.purpose);
    const reasons: string[] = [];
    if (!p) reasons.push('purpose-undeclared');
    else if (!p.categories.includes(o.category)) reasons.push('category-not-declared');
    if (o.recipient && SENDS.has(o.type) && !recipients.has(o.recipient)) reasons.push('recipient-unknown');
    if (!systems.has(o.system)) reasons.push('system-unknown');
    if (reasons.length === 0) continue;
    const recipient = SENDS.has(o.type) ? o.recipient : null;
    const k = `${o.purpose}\u0000${o.category}\u0000${recipient ?? ''}`;
    const u = undeclared.get(k) ?? { purpose: o.purpose, category: o.category, recipient, systems: new Set<string>(), types: new Set<string>(), reasons: new Set<string>(), firstPosition: o.firstPosition };
    u.systems.add(o.system);
    u.types.add(o.type);
    for (const r of reasons) u.reasons.add(r);
    u.firstPosition = Math.min(u.firstPosition, o.firstPosition);
    undeclared.set(k, u);
  }
  return {
    controller: { id: input.tenant.id, name: input.tenant.name, residency: [...input.tenant.residency] },
    generatedAt: input.generatedAt,
    asOf: input.asOf,
    purposes: records,
    undeclared: [...undeclared.values()].sort((a, b) => a.firstPosition - b.firstPosition).map((u) => ({
      purpose: u.purpose, category: u.category, recipient: u.recipient, systems: sorted(u.systems), types: sorted(u.types), reasons: sorted(u.reasons), firstPosition: u.firstPosition,
    })),
  };
}
export type RecordsOfProcessing = ReturnType<typeof recordsOfProcessing>;

/** One CSV field (RFC 4180), with spreadsheet formula triggers neutralised. */
export function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
export const csvRow = (fields: readonly unknown[]) => `${fields.map(csvField).join(',')}\r\n`;

/** The register as CSV: one row per declared purpose, then one per undeclared processing (`record` column). */
export function ropaCsv(r: RecordsOfProcessing): string {
  let out = csvRow(['record', 'purpose', 'title', 'legal_basis', 'law_reference', 'categories', 'subjects_count', 'subject_categories', 'recipients', 'transfers', 'retention', 'systems', 'countries', 'reasons']);
  for (const p of r.purposes) {
    out += csvRow(['declared', p.id, p.title, p.legalBasis, 'lawReference' in p ? p.lawReference : '', p.categories.join('; '), p.subjectsCount,
      p.subjectCategories.map((k) => `${k.kind}: ${k.subjects}`).join('; '),
      Object.entries(p.recipients).map(([kind, rs]) => `${kind}: ${rs.map((x) => x.id).join(' ')}`).join('; '),
      p.transfers.map((t) => `${t.country} (${t.safeguard})`).join('; '), p.retention.text,
      p.systems.map((s) => s.id).join('; '), p.countries.join('; '), '']);
  }
  for (const u of r.undeclared) out += csvRow(['undeclared', u.purpose, '', '', '', u.category, '', '', u.recipient ?? '', '', '', u.systems.join('; '), '', u.reasons.join('; ')]);
  return out;
}
