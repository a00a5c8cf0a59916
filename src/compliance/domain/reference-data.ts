/**
 * Reference data the rules need, versioned here with its source and date. Update it (with a new
 * `AS_OF`) when the lists change; the rules read nothing else.
 */

/** EU member states (ISO 3166-1 alpha-2; Greece is GR). Source: europa.eu, "EU countries"; as of 2025-01. */
export const EU = ['AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK'] as const;

/** The EEA: the EU and Iceland, Liechtenstein, Norway (EEA Agreement). Where the GDPR applies directly. */
export const EEA = [...EU, 'IS', 'LI', 'NO'] as const;

/** Named groups a tenant's residency may use besides single countries. */
export const RESIDENCY_GROUPS: Readonly<Record<string, readonly string[]>> = { EU, EEA };

/**
 * Countries with an EU adequacy decision (GDPR Art. 45). Source: European Commission, "Adequacy
 * decisions", https://commission.europa.eu/law/law-topic/data-protection/international-dimension-data-protection/adequacy-decisions_en
 * AS_OF below. `certifiedOnly`: the decision covers only organisations certified under a framework (the
 * United States: the EU-US Data Privacy Framework, decision of 10 July 2023); Canada's covers
 * commercial organisations under PIPEDA.
 */
export const ADEQUACY_AS_OF = '2025-07-01';
export const ADEQUACY: Readonly<Record<string, { readonly since: string; readonly certifiedOnly?: true; readonly note?: string }>> = {
  AD: { since: '2010-10-19' },
  AR: { since: '2003-06-30' },
  CA: { since: '2001-12-20', note: 'commercial organisations subject to PIPEDA' },
  CH: { since: '2000-07-26' },
  FO: { since: '2010-03-05' },
  GB: { since: '2021-06-28' },
  GG: { since: '2003-11-21' },
  IL: { since: '2011-01-31' },
  IM: { since: '2004-04-28' },
  JE: { since: '2008-05-08' },
  JP: { since: '2019-01-23' },
  KR: { since: '2021-12-17' },
  NZ: { since: '2012-12-19' },
  US: { since: '2023-07-10', certifiedOnly: true, note: 'only organisations certified under the EU-US Data Privacy Framework' },
  UY: { since: '2012-08-21' },
};

/** Expanded residency lists, by the list itself: the rules ask again for each stored or transferred event. */
const expanded = new WeakMap<readonly string[], ReadonlySet<string>>();

/**
 * The countries a residency list allows (groups expanded). Worked out once per list object: a tenant's
 * residency is one array for as long as its declaration is in force (the compliance engine keeps it), and
 * expanding it for every stored event took 1.3% of a rebuild.
 */
export function residencyCountries(residency: readonly string[]): ReadonlySet<string> {
  let countries = expanded.get(residency);
  if (!countries) expanded.set(residency, (countries = new Set(residency.flatMap((r) => RESIDENCY_GROUPS[r] ?? [r]))));
  return countries;
}

/**
 * Does an adequacy decision cover a transfer to `country` at `at` (YYYY-MM-DD… comparable text)?
 * For a decision limited to certified organisations, only when the recipient is certified.
 */
export function adequacyCovers(country: string, at: string, recipientCertified: boolean): boolean {
  const d = ADEQUACY[country];
  if (!d || at.slice(0, 10) < d.since) return false;
  return !d.certifiedOnly || recipientCertified;
}
