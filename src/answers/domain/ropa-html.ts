import { cat, country, duration, esc, htmlPage, humanDate, list, table } from './report-html.js';
import type { RecordsOfProcessing } from './ropa.js';

const BASES: Readonly<Record<string, string>> = {
  consent: 'consent of the data subject (GDPR Art. 6(1)(a))',
  contract: 'performance of a contract with the data subject (Art. 6(1)(b))',
  'legal-obligation': 'compliance with a legal obligation (Art. 6(1)(c))',
  'vital-interests': 'vital interests of a person (Art. 6(1)(d))',
  'public-task': 'a task in the public interest or official authority (Art. 6(1)(e))',
  'legitimate-interests': 'legitimate interests of the controller (Art. 6(1)(f))',
};

const RECIPIENT_KINDS: Readonly<Record<string, string>> = {
  processor: 'Processors', controller: 'Other controllers', 'public-authority': 'Public authorities', undeclared: 'Recipients not declared',
};

const REASONS: Readonly<Record<string, string>> = {
  'purpose-undeclared': 'the purpose is not declared',
  'category-not-declared': 'the data is not among the purpose’s declared categories',
  'recipient-unknown': 'the recipient is not declared',
  'system-unknown': 'the system is not declared',
};

type PurposeRecord = RecordsOfProcessing['purposes'][number];

/** One record of processing as a two-column table, each row one item of Art. 30(1). */
function recordRows(p: PurposeRecord): string[][] {
  const extra = p.observedCategories.filter((c) => !p.categories.includes(c));
  const recipients = Object.entries(p.recipients);
  const rule = p.retention;
  return [
    ['Purpose (Art. 30(1)(b))', `${esc(p.title)} <span class="key">${esc(p.id)}</span>`],
    ['Legal basis', `${esc(BASES[p.legalBasis] ?? p.legalBasis)}${'lawReference' in p && p.lawReference ? `<br>${esc(p.lawReference)}` : ''}`],
    ['Categories of personal data (c)', `${list(p.categories, cat)}${extra.length ? `<br><span class="flag">Also observed, not declared: ${list(extra, cat)}</span>` : ''}`],
    ['Categories of data subjects (c)', p.subjectCategories.length
      ? `${p.subjectCategories.map((k) => `${esc(k.kind)}: ${k.subjects.toLocaleString('en')}`).join('<br>')}<br>${p.subjectsCount.toLocaleString('en')} in all`
      : 'none observed'],
    ['Recipients (d)', recipients.length
      ? recipients.map(([kind, rs]) => `${kind === 'undeclared' ? '<span class="flag">' : ''}${esc(RECIPIENT_KINDS[kind] ?? kind)}: ${rs.map((x) => `${esc(x.name ?? x.id)}${x.country ? ` (${country(x.country)})` : ''}`).join(', ')}${kind === 'undeclared' ? '</span>' : ''}`).join('<br>')
      : 'none observed'],
    ['Transfers to third countries and their safeguards (e)', p.transfers.length
      ? p.transfers.map((t) => `${country(t.country)}: ${esc(t.via)}${t.recipient ? ` to ${esc(t.recipient)}` : ''}; safeguard: ${t.mechanism === null || t.mechanism === 'none' ? `<span class="flag">${esc(t.safeguard)}</span>` : esc(t.safeguard)}`).join('<br>')
      : 'none observed'],
    ['Time limits for erasure (f)', `${rule.period === null ? '<span class="flag">no fixed period</span>' : `${duration(rule.period)} from ${rule.from === 'collection' ? 'collection' : 'the last activity'}`}${rule.minimum ? `; kept at least ${duration(rule.minimum)} by law` : ''}`],
    ['Systems and where they are', p.systems.length
      ? p.systems.map((x) => `${esc(x.name ?? x.id)}${x.country ? ` (${country(x.country)})` : ''}${x.declared ? '' : ' <span class="flag">not declared</span>'}`).join('<br>')
      : 'none observed'],
    ['Countries', list(p.countries, country)],
  ];
}

/**
 * The records of processing activities (GDPR Art. 30(1)) as a page a DPO can print or hand to a
 * supervisory authority (Art. 30(4)): one record per declared purpose, each item of Art. 30(1) in words,
 * what the log shows beside what was declared (marked where they differ), then what was observed but
 * never declared. Every value is escaped.
 */
export function ropaHtml(r: RecordsOfProcessing): string {
  const sections: string[] = [];
  for (const p of r.purposes) {
    sections.push(`<section><h2>${esc(p.title)}</h2><table><tbody>${recordRows(p).map(([item, value]) => `<tr><th scope="row">${esc(item)}</th><td>${value}</td></tr>`).join('')}</tbody></table></section>\n`);
  }
  if (r.purposes.length === 0) sections.push('<p class="none">No purpose was declared.</p>\n');
  sections.push('<section><h2>Processing observed but not declared</h2>',
    ...table(['Purpose', 'Data', 'Recipient', 'Systems', 'What was done', 'Why it is not covered'],
      r.undeclared.map((u) => [esc(u.purpose), cat(u.category), esc(u.recipient ?? '—'), list(u.systems), list(u.types), list(u.reasons, (x) => esc(REASONS[x] ?? x))]),
      'Everything observed is covered by the declarations.'),
    '</section>\n');
  const asOf = r.asOf ? ` as the ledger knew them on ${humanDate(r.asOf)}` : '';
  const residency = r.controller.residency.length ? `Data residency declared: ${list(r.controller.residency)}.` : '';
  return htmlPage(`Records of processing activities of ${r.controller.name}`,
    `<p>The records the controller keeps under Article 30(1) of the General Data Protection Regulation, one per declared purpose${asOf}: built from the declared purposes, systems and recipients and from the processing recorded in the ledger, so that what was done stands beside what was declared. ${residency} Prepared on ${humanDate(r.generatedAt)}.</p>`,
    sections).join('');
}
