import { recordsOfProcessing } from '../../src/answers/domain/ropa.js';
import { ropaHtml } from '../../src/answers/domain/ropa-html.js';

const declared = <B>(id: string, body: B) => ({ id, version: 1, position: 0, recordedAt: '2026-01-01T00:00:00Z', body });
const observed = (o: Partial<{ purpose: string; category: string; system: string; type: string; recipient: string | null; country: string | null; mechanism: string | null }>) =>
  ({ purpose: 'support', category: 'user.contact.email', system: 'crm', type: 'stored', recipient: null, country: null, mechanism: null, firstPosition: 1, ...o });

describe('the records of processing as a page', () => {
  const hostile = '<img src=x onerror="alert(1)">';
  const page = ropaHtml(recordsOfProcessing({
    tenant: { id: 'acme', name: `Acme ${hostile}`, residency: ['EEA'] },
    generatedAt: '2026-06-01T12:00:00Z', asOf: null,
    purposes: [
      declared('support', { title: `Support ${hostile}`, legalBasis: 'contract', lawReference: `"Code" ${hostile}`, categories: ['user.contact.email'], retention: { period: 'P2Y', from: 'last-activity' as const } }),
      declared('security', { title: 'Security', legalBasis: 'legitimate-interests', categories: ['user.device.ip_address'], retention: { period: null, from: 'collection' as const } }),
    ] as never,
    systems: [declared('crm', { name: `CRM ${hostile}`, country: 'DE' })],
    recipients: [declared('mailer', { name: 'Mailer', kind: 'processor' as const, country: 'US' })] as never,
    observed: [
      observed({}),
      observed({ type: 'disclosed', recipient: 'mailer' }),
      observed({ type: 'transferred', country: 'US', mechanism: 'none', recipient: 'mailer' }),
      observed({ purpose: `train-${hostile}`, type: 'used', system: 'shadow-it' }),
    ],
    subjects: [{ purpose: 'support', kind: 'customer', subjects: 1234 }],
  }));

  it('escapes every value a declaration or an event brought, wherever it stands', () => {
    expect(page).not.toContain('<img');
    expect(page).not.toContain('onerror="');
    expect(page).toContain('Support &#60;img src=x onerror=&#34;alert(1)&#34;&#62;');
    expect(page).toContain('&#34;Code&#34;');
    expect(page).toContain('<title>Records of processing activities of Acme &#60;img');
  });

  it('says each item of Art. 30(1) in words, and marks where the log and the declarations part', () => {
    expect(page).toContain('performance of a contract with the data subject (Art. 6(1)(b))');
    expect(page).toContain('customer: 1,234');
    expect(page).toContain('Processors: Mailer (United States)');
    expect(page).toContain('2 years from the last activity');
    // A retention without a period, and a transfer without a safeguard, are marked.
    expect(page).toMatch(/<span class="flag">no fixed period<\/span>/);
    expect(page).toMatch(/United States: transfer to mailer; safeguard: <span class="flag">/);
    // What nobody declared: the purpose and the system, each reason in words.
    const undeclared = page.slice(page.indexOf('Processing observed but not declared'));
    expect(undeclared).toContain('the purpose is not declared');
    expect(undeclared).toContain('the system is not declared');
    expect(undeclared).toContain('train-&#60;img');
  });
});
