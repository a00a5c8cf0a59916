import type { SubjectReport } from './subject-report.js';

/** Text made safe for HTML (every value in a page goes through here). */
export const esc = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const REGIONS = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });

/** A country's English name (`US` → `United States`); a code with no name (as an old entry may hold) as it is. */
function countryName(code: string): string {
  try {
    return REGIONS.of(code) ?? code;
  } catch {
    return code;
  }
}

/** `countryName`, made safe for HTML. */
export const country = (code: string): string => esc(countryName(code));

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** `2026-01-10T09:05:00Z` → `10 January 2026, 09:05 UTC`. */
export function humanDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return esc(iso);
  const hh = String(d.getUTCHours()).padStart(2, '0'), mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${hh}:${mm} UTC`;
}

const CATEGORY_NAMES: Readonly<Record<string, string>> = {
  'user.device.ip_address': 'IP address',
  'user.device.cookie_id': 'cookie identifier',
  'user.contact.email': 'e-mail address',
  'user.contact.phone_number': 'phone number',
  'user.name': 'name',
  'user.content.private': 'private messages',
  'user.behavior.browsing_history': 'browsing history',
  'user.government_id': 'government identifier',
  'user.unique_id': 'unique identifier',
};
/** A data category in plain words, its taxonomy key beside it for the DPO. */
export const categoryName = (key: string): string => CATEGORY_NAMES[key] ?? key.split('.').pop()!.replace(/_/g, ' ');

const BASES: Readonly<Record<string, string>> = {
  consent: 'your consent (GDPR Art. 6(1)(a))',
  contract: 'a contract with you, or steps you asked for before one (Art. 6(1)(b))',
  'legal-obligation': 'a legal obligation we are under (Art. 6(1)(c))',
  'vital-interests': 'protecting someone’s vital interests (Art. 6(1)(d))',
  'public-task': 'a task in the public interest (Art. 6(1)(e))',
  'legitimate-interests': 'our legitimate interests (Art. 6(1)(f))',
};

const ACTIONS: Readonly<Record<string, string>> = {
  collected: 'collected', stored: 'stored', used: 'used', rectified: 'corrected', disclosed: 'disclosed', transferred: 'transferred abroad',
  erased: 'erased', restricted: 'restricted', 'restriction-lifted': 'restriction lifted', objected: 'you objected', 'consent-given': 'you gave consent',
  'consent-withdrawn': 'you withdrew consent', activity: 'you came back',
};

const SOURCES: Readonly<Record<string, string>> = {
  'data-subject': 'from you', observed: 'observed when you used the service', 'third-party': 'from a third party', derived: 'derived from other data', 'not recorded': 'not recorded',
};

/** An ISO 8601 duration in words (`P1Y` → `1 year`); null: no fixed period. */
export const duration = (iso: string | null | undefined): string => {
  if (!iso) return 'no fixed period';
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(iso);
  if (!m) return esc(iso);
  const units = ['year', 'month', 'week', 'day', 'hour', 'minute', 'second'];
  const parts = m.slice(1).flatMap((v, i) => (v && v !== '0' ? [`${v} ${units[i]}${v === '1' ? '' : 's'}`] : []));
  return parts.join(', ') || esc(iso);
};

export const list = (xs: readonly string[], f: (x: string) => string = esc) => (xs.length ? xs.map(f).join(', ') : '—');
/** A data category in plain words with its key, for a page. */
export const cat = (k: string) => `${esc(categoryName(k))} <span class="key">${esc(k)}</span>`;
/** Rows of a table joined into one part of the page (see `reportHtmlParts`). */
const ROWS_A_PART = 100;
/** A table, in parts: its head, its rows `ROWS_A_PART` at a time, its end. */
export const table = (head: readonly string[], rows: readonly string[][], empty: string): string[] => {
  if (rows.length === 0) return [`<p class="none">${esc(empty)}</p>`];
  const parts = [`<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>`];
  for (let i = 0; i < rows.length; i += ROWS_A_PART) parts.push(rows.slice(i, i + ROWS_A_PART).map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join(''));
  parts.push('</tbody></table>');
  return parts;
};

/**
 * The report as a page a DPO can send to the person: plain language, dates written out, every section
 * of Art. 15 in order, printable. Every value is escaped. In parts, none of them large, to be encoded one
 * after the other: the page of a subject with 1,000 events (~180 KB) as one string is beyond V8's
 * large-object size, and encoding it copied it into fresh memory first (making and encoding the page,
 * measured alone: 5.3–5.7 → 2.1 ms; see `jsonBytes` for the report's JSON).
 */
export function reportHtmlParts(r: SubjectReport): string[] {
  const sections: string[] = [];
  // A person reads the purposes' titles and the systems' and recipients' names, not the ids the services send (an id stays where nothing was declared).
  // Each written once, escaped, for the history's thousand rows to take.
  const named = (pairs: Iterable<readonly [string, string | null]>) => {
    const html = new Map<string, string>();
    for (const [id, name] of pairs) if (!html.has(id)) html.set(id, esc(name ?? id));
    return (id: string) => { let h = html.get(id); if (h === undefined) html.set(id, (h = esc(id))); return h; };
  };
  const purpose = named(r.purposes.map((p) => [p.id, p.title] as const));
  const system = named(r.categories.flatMap((c) => c.systems.map((s) => [s.id, s.name] as const)));
  const recipient = named(r.recipients.map((x) => [x.id, x.name] as const));
  const section = (title: string, body: string | readonly string[]) => {
    sections.push(`<section><h2>${esc(title)}</h2>`, ...(typeof body === 'string' ? [body] : body), '</section>\n');
  };

  section('Who we are and who you are', [`<p>This report was prepared by <strong>${esc(r.controller.name)}</strong> for the person known in our records as <strong>${esc(r.subject.id)}</strong>.</p>`,
    ...table(['Identifier', 'Value', 'First seen', 'Last seen'], r.subject.identifiers.map((i) => [esc(i.kind), esc(i.value), humanDate(i.firstSeen), humanDate(i.lastSeen)]), 'We hold no identifier such as an e-mail or IP address for you.')]);

  section('Why we process your data', table(['Purpose', 'Legal basis', 'Data', 'Period'],
    r.purposes.map((p) => [`${esc(p.title ?? p.id)}${p.declared ? '' : ' <em>(not in our declared purposes)</em>'}`,
      p.legalBasis ? `${esc(BASES[p.legalBasis] ?? p.legalBasis)}${'lawReference' in p && p.lawReference ? `<br><span class="key">${esc(p.lawReference)}</span>` : ''}` : '—',
      list(p.categories, cat), `${humanDate(p.firstAt)} – ${humanDate(p.lastAt)}`]), 'We have not processed data about you.'));

  section('What data we process', table(['Data', 'Purposes', 'Where', 'Still held'],
    r.categories.map((c) => [cat(c.category), list(c.purposes, purpose), c.systems.length ? c.systems.map((s) => `${system(s.id)}${s.country ? ` (${country(s.country)})` : ''}`).join(', ') : '—', c.heldNow ? 'yes' : 'no']), 'No data.'));

  section('Who received your data', table(['Recipient', 'Kind', 'Country', 'Data', 'When'],
    r.recipients.map((x) => [esc(x.name ?? x.id), esc(x.kind ?? 'not declared'), `${x.country ? country(x.country) : '—'}${x.thirdCountry ? ' (outside our residency)' : ''}`, list(x.categories, cat),
      `${x.disclosures} time${x.disclosures === 1 ? '' : 's'}, ${humanDate(x.firstAt)}${x.disclosures > 1 ? ` – ${humanDate(x.lastAt)}` : ''}`]), 'Your data was not disclosed to anyone.'));

  section('Transfers outside the EU/EEA and their safeguards', table(['When', 'Country', 'How', 'Safeguard'],
    r.transfers.map((t) => [humanDate(String(t.occurredAt)), country(String(t.country)), t.kind === 'storage' ? `stored in ${system(String(t.system))}` : t.recipient ? `to ${recipient(String(t.recipient))}` : esc(String(t.kind)), esc(t.safeguardText)]),
    'Your data was not moved outside the countries where we keep it.'));

  section('How long we keep it', table(['Data', 'Where', 'Since', 'Until', 'Why'],
    r.retention.map((h) => [cat(h.category), system(h.system), humanDate(h.heldSince), h.deadline ? humanDate(h.deadline) : 'no fixed end',
      `${h.rules.map((x) => `${purpose(x.purpose)}: ${x.rule ? `${duration(x.rule.period)} from ${x.rule.from === 'collection' ? 'collection' : 'your last activity'}${x.rule.minimum ? `, kept at least ${duration(x.rule.minimum)} by law` : ''}` : 'not declared'}`).join('<br>')}${'legalHold' in h && h.legalHold ? `<br><strong>Kept by law until ${humanDate(h.legalHold.until)}</strong> (${esc(h.legalHold.legalBasis)})` : ''}`]),
    'We no longer hold any of your data.'));

  section('Where your data came from', table(['When', 'Data', 'Source'],
    r.sources.map((s) => [humanDate(String(s.occurredAt)), list(s.categories as string[], cat), esc(SOURCES[String(s.source)] ?? s.source)]), 'No collection was recorded.'));

  section('Your consents', table(['Purpose', 'Now', 'History'],
    r.consents.map((c) => [purpose(c.purpose), c.status === 'given' ? 'given' : 'withdrawn', c.history.map((h) => `${h.status} on ${humanDate(h.at)}${h.noticeVersion ? ` (notice ${esc(h.noticeVersion)})` : ''}`).join('<br>')]), 'No consent was recorded.'));

  section('Your requests', table(['Request', 'Received', 'Due', 'Status'],
    r.requests.map((q) => q.kind === 'subject'
      ? [esc(`${q.type} request`), humanDate(q.receivedAt), humanDate(q.dueAt), esc(q.completedAt ? `${q.outcome} on ${humanDate(q.completedAt)}` : q.status)]
      : [esc(`request from ${q.authority} (${q.reference})`), humanDate(q.receivedAt), '—', esc(q.decision ? `${q.decision}` : 'pending')]), 'No request was recorded.'));

  section('Everything that happened', table(['When', 'What', 'Data', 'Purpose', 'Where'],
    r.history.map(({ event: e }) => [humanDate(e.occurredAt), esc(ACTIONS[e.type] ?? e.type) + (typeof e.details?.recipient === 'string' ? ` to ${recipient(e.details.recipient)}` : ''), list(e.categories, cat), purpose(e.purpose), system(e.system)]),
    'Nothing was recorded.'));

  section('Your rights', `<ul>${r.rights.map((x) => `<li>You may ${esc(x.text)} (GDPR Art. ${esc(x.article)}).</li>`).join('')}</ul>`);

  const asOf = r.asOf ? ` as our records stood on ${humanDate(r.asOf)}` : ' from our records as they stand';
  return htmlPage(`Your personal data at ${r.controller.name}`,
    `<p>Under Article 15 of the General Data Protection Regulation you may know what personal data we process about you, why, who receives it and for how long we keep it. This report answers these questions${asOf}. It was prepared on ${humanDate(r.generatedAt)}.</p>`,
    sections);
}

/** A printable page: `title` as its heading, `intro` (HTML) under it, then `sections` (HTML parts). */
export function htmlPage(title: string, intro: string, sections: readonly string[]): string[] {
  return [`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;border-bottom:1px solid #eee}
th[scope=row]{width:16rem;font-weight:600}
.key{color:#777;font-size:.8em}.none{color:#666;font-style:italic}.flag{color:#a40000}
@media print{body{margin:0;font-size:11pt}section{break-inside:avoid}}
</style></head><body>
<h1>${esc(title)}</h1>
${intro}
`, ...sections, '</body></html>'];
}
