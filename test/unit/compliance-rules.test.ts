import { agreementMissing, authorityRequestMissing, categoryNotDeclared, consentMissing, erasedBeforeMinimum, judge, locationOutsideResidency, processingAfterErasure,
  processingWhileRestricted, purposeUndeclared, recipientUnknown, retentionUnbounded, systemUnknown, transferWithoutSafeguard,
  type Fact, type Policy, type SubjectFacts } from '../../src/compliance/domain/rules.js';
import { adequacyCovers, residencyCountries } from '../../src/compliance/domain/reference-data.js';
import type { PurposeBody, RecipientBody } from '../../src/declarations/domain/declaration.js';

const marketing: PurposeBody = { title: 'Marketing', legalBasis: 'consent', categories: ['user.contact.email'], retention: { period: 'P3Y', from: 'last-activity' } };
const logging: PurposeBody = { title: 'IP logging', legalBasis: 'legal-obligation', categories: ['user.device.ip_address'], retention: { period: 'P1Y', from: 'collection', minimum: 'P1Y' } };
const processor: RecipientBody = { name: 'Mailer', kind: 'processor', country: 'IE', agreement: { reference: 'DPA-1', signedAt: '2026-01-01T00:00:00Z', expiresAt: '2026-06-01T00:00:00Z' } };
const police: RecipientBody = { name: 'Police', kind: 'public-authority', country: 'FR' };

const fact = (o: Partial<Fact> = {}): Fact => ({ type: 'used', subject: 'visitor:x', categories: ['user.contact.email'], purpose: 'marketing', system: 'core', occurredAt: '2026-03-01T09:00:00Z', ...o });
const policy = (o: Partial<Policy> = {}): Policy => ({ residency: ['EEA'], purpose: marketing, system: { name: 'Core', country: 'NL' }, recipient: null, ...o });
const subject = (o: Partial<SubjectFacts> = {}): SubjectFacts => ({ consented: true, restricted: false, objected: false, erased: [], minimums: [], authorityRequest: null, ...o });
const code = (f: ReturnType<typeof purposeUndeclared>) => f?.code ?? null;

describe('the compliance rules', () => {
  it('given no declaration of the purpose, when processing for it, then purpose-undeclared', () => {
    expect(purposeUndeclared(fact({ purpose: 'ai-training' }), policy({ purpose: null }), subject())?.message).toMatch(/"ai-training".*not declared/);
    expect(purposeUndeclared(fact(), policy(), subject())).toBeNull();
  });

  it('given no declaration of the system, then system-unknown', () => {
    expect(code(systemUnknown(fact({ system: 'legacy-crm' }), policy({ system: null }), subject()))).toBe('system-unknown');
    expect(systemUnknown(fact(), policy(), subject())).toBeNull();
  });

  it('given a purpose declaring some categories, when another is processed, then category-not-declared naming it; not for an erasure', () => {
    const f = categoryNotDeclared(fact({ categories: ['user.contact.email', 'user.device.ip_address'] }), policy(), subject());
    expect(f?.message).toContain('"user.device.ip_address"');
    expect(f?.message).not.toContain('"user.contact.email",');
    expect(categoryNotDeclared(fact(), policy(), subject())).toBeNull();
    expect(categoryNotDeclared(fact({ type: 'erased', categories: ['user.device.ip_address'] }), policy(), subject())).toBeNull();
  });

  it('given a consent purpose, then processing needs an active consent at occurredAt; consent events themselves need none', () => {
    expect(code(consentMissing(fact({ type: 'disclosed' }), policy(), subject({ consented: false })))).toBe('consent-missing');
    expect(consentMissing(fact({ type: 'disclosed' }), policy(), subject({ consented: true }))).toBeNull();
    expect(consentMissing(fact({ type: 'consent-given' }), policy(), subject({ consented: false }))).toBeNull();
    expect(consentMissing(fact(), policy({ purpose: logging }), subject({ consented: false }))).toBeNull();
  });

  it('given a disclosure to an undeclared recipient, then recipient-unknown', () => {
    const f = fact({ type: 'disclosed', details: { recipient: 'data-broker' } });
    expect(code(recipientUnknown(f, policy({ recipient: null }), subject()))).toBe('recipient-unknown');
    expect(recipientUnknown(f, policy({ recipient: processor }), subject())).toBeNull();
    expect(recipientUnknown(fact({ type: 'transferred', details: { country: 'US', mechanism: 'scc' } }), policy(), subject())).toBeNull();
  });

  it('judges an agreement at occurredAt: before signing, on the day it expires, and without one', () => {
    const at = (occurredAt: string, r: RecipientBody = processor) => code(agreementMissing(fact({ type: 'disclosed', occurredAt, details: { recipient: 'mailer' } }), policy({ recipient: r }), subject()));
    expect(at('2026-03-01T09:00:00Z')).toBeNull();
    expect(at('2026-01-01T00:00:00Z')).toBeNull();
    expect(at('2025-12-31T23:59:59Z')).toBe('agreement-missing');
    expect(at('2026-05-31T23:59:59Z')).toBeNull();
    expect(at('2026-06-01T00:00:00Z')).toBe('agreement-missing');
    expect(at('2026-06-01T09:00:00Z')).toBe('agreement-missing');
    expect(at('2026-03-01T09:00:00Z', { name: 'Ads', kind: 'controller', country: 'US' })).toBe('agreement-missing');
    expect(at('2026-03-01T09:00:00Z', police)).toBeNull();
    expect(agreementMissing(fact({ type: 'transferred', details: { recipient: 'ads', country: 'US', mechanism: 'scc' } }), policy({ recipient: { name: 'Ads', kind: 'controller', country: 'US' } }), subject())?.code).toBe('agreement-missing');
  });

  it('given a disclosure to an authority, then it needs a request of that authority decided to comply', () => {
    const f = fact({ type: 'disclosed', details: { recipient: 'police', authorityRequestId: 'r1' } });
    const p = policy({ recipient: police });
    expect(authorityRequestMissing(f, p, subject({ authorityRequest: { authority: 'police', decision: 'comply' } }))).toBeNull();
    expect(authorityRequestMissing(f, p, subject({ authorityRequest: null }))?.message).toMatch(/without an authority request/);
    expect(authorityRequestMissing(f, p, subject({ authorityRequest: { authority: 'police', decision: null } }))?.message).toMatch(/not yet decided/);
    expect(authorityRequestMissing(f, p, subject({ authorityRequest: { authority: 'police', decision: 'refuse' } }))?.message).toMatch(/refuse/);
    expect(authorityRequestMissing(f, p, subject({ authorityRequest: { authority: 'customs', decision: 'comply' } }))?.message).toMatch(/another authority/);
    expect(authorityRequestMissing(fact({ type: 'disclosed', details: { recipient: 'mailer' } }), policy({ recipient: processor }), subject())).toBeNull();
  });

  it('given an EEA residency, then storing in the US is outside it, in the system\'s country or the one the event names', () => {
    expect(code(locationOutsideResidency(fact({ type: 'stored', system: 'backup-us' }), policy({ system: { name: 'Backup', country: 'US' } }), subject()))).toBe('location-outside-residency');
    expect(locationOutsideResidency(fact({ type: 'stored' }), policy(), subject())).toBeNull();
    expect(code(locationOutsideResidency(fact({ type: 'stored', details: { country: 'SG' } }), policy(), subject()))).toBe('location-outside-residency');
    expect(locationOutsideResidency(fact({ type: 'stored', details: { country: 'NO' } }), policy(), subject())).toBeNull();
    expect(locationOutsideResidency(fact({ type: 'stored', details: { country: 'NO' } }), policy({ residency: ['EU'] }), subject())).not.toBeNull();
    expect(locationOutsideResidency(fact({ type: 'used', system: 'backup-us' }), policy({ system: { name: 'Backup', country: 'US' } }), subject())).toBeNull();
  });

  it('judges transfers: none, adequacy to an adequate country, to a non-adequate one, to the US (certified only), within residency', () => {
    const t = (country: string, mechanism: string, certified?: boolean) => code(transferWithoutSafeguard(
      fact({ type: 'transferred', details: { country, mechanism, recipient: 'r' } }),
      policy({ recipient: { name: 'R', kind: 'processor', country, ...(certified !== undefined ? { certified } : {}) } }), subject()));
    expect(t('US', 'none')).toBe('transfer-without-safeguard');
    expect(t('JP', 'adequacy')).toBeNull();
    expect(t('CH', 'adequacy')).toBeNull();
    expect(t('IN', 'adequacy')).toBe('transfer-without-safeguard');
    expect(t('US', 'adequacy')).toBe('transfer-without-safeguard');
    expect(t('US', 'adequacy', true)).toBeNull();
    expect(t('IN', 'scc')).toBeNull();
    expect(t('DE', 'none')).toBeNull();
    expect(adequacyCovers('KR', '2021-01-01T00:00:00Z', false)).toBe(false);
    expect(residencyCountries(['EEA', 'CH']).has('LI')).toBe(true);
  });

  it('expands a residency list once per list: the same list answers the same countries, another list its own', () => {
    const eea = ['EEA'];
    const first = residencyCountries(eea);
    expect(residencyCountries(eea)).toBe(first);
    expect(first.has('DE') && !first.has('CH')).toBe(true);
    const withSwiss = residencyCountries(['EEA', 'CH']);
    expect(withSwiss).not.toBe(first);
    expect(withSwiss.has('CH')).toBe(true);
    expect(residencyCountries(['CH'])).toEqual(new Set(['CH']));
  });

  it('given a legal minimum still running, when erased, then erased-before-minimum naming the purpose and date', () => {
    const f = erasedBeforeMinimum(fact({ type: 'erased', categories: ['user.device.ip_address'] }), policy({ purpose: logging }), subject({ minimums: [{ category: 'user.device.ip_address', purpose: 'ip-logging-law', until: '2027-02-01T09:00:00Z' }] }));
    expect(f?.message).toMatch(/"ip-logging-law" requires keeping it until 2027-02-01/);
    expect(erasedBeforeMinimum(fact({ type: 'erased' }), policy(), subject())).toBeNull();
  });

  it('given a category erased everywhere, when used, disclosed or transferred, then processing-after-erasure; not when collected again', () => {
    for (const type of ['used', 'disclosed', 'transferred'] as const) expect(code(processingAfterErasure(fact({ type }), policy(), subject({ erased: ['user.contact.email'] })))).toBe('processing-after-erasure');
    expect(processingAfterErasure(fact({ type: 'collected' }), policy(), subject({ erased: ['user.contact.email'] }))).toBeNull();
    expect(processingAfterErasure(fact(), policy(), subject())).toBeNull();
  });

  it('given a restriction or an objection to the purpose, when used or disclosed, then processing-while-restricted', () => {
    expect(processingWhileRestricted(fact(), policy(), subject({ restricted: true }))?.message).toMatch(/restricted/);
    expect(processingWhileRestricted(fact({ type: 'disclosed' }), policy(), subject({ objected: true }))?.message).toMatch(/objected/);
    expect(processingWhileRestricted(fact({ type: 'stored' }), policy(), subject({ restricted: true }))).toBeNull();
    expect(processingWhileRestricted(fact(), policy(), subject())).toBeNull();
  });

  it('raises retention-unbounded for a purpose declared without a period', () => {
    expect(retentionUnbounded('anti-abuse', { ...logging, retention: { period: null, from: 'collection' } })?.severity).toBe('warning');
    expect(retentionUnbounded('ip-logging-law', logging)).toBeNull();
  });

  it('judges a lawful event with no finding at all, and an unlawful one with all that apply', () => {
    expect(judge(fact({ type: 'disclosed', details: { recipient: 'mailer' } }), policy({ recipient: processor }), subject())).toEqual([]);
    const codes = judge(fact({ type: 'transferred', purpose: 'statistics', categories: ['user.device.ip_address'], details: { recipient: 'ads', country: 'US', mechanism: 'none' } }),
      policy({ purpose: { ...marketing, legalBasis: 'legitimate-interests', categories: ['user.device.cookie_id'] }, recipient: { name: 'Ads', kind: 'controller', country: 'US' } }),
      subject({ erased: ['user.device.ip_address'] })).map((f) => f.code);
    expect(codes).toEqual(['category-not-declared', 'agreement-missing', 'transfer-without-safeguard', 'processing-after-erasure']);
  });
});
