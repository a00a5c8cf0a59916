import { csvField, recordsOfProcessing, ropaCsv, retentionText } from '../../src/answers/domain/ropa.js';
import { categoryName, esc, humanDate } from '../../src/answers/domain/report-html.js';
import { scenario } from '../support/builders.js';

const declared = <B>(list: Array<{ id: string } & B>) => list.map(({ id, ...body }, i) => ({ id, version: 1, position: i, recordedAt: '2026-01-01T00:00:00Z', body: body as unknown as B }));

describe('the records of processing (pure)', () => {
  const ropa = recordsOfProcessing({
    tenant: { id: 'chatbox', name: 'Chat box company', residency: ['EEA'] }, generatedAt: '2026-11-29T00:00:00Z', asOf: null,
    purposes: declared(scenario.purposes), systems: declared(scenario.systems), recipients: declared(scenario.recipients),
    observed: [
      { purpose: 'statistics', category: 'user.device.ip_address', system: 'core', type: 'transferred', recipient: 'ad-network', country: 'US', mechanism: 'none', firstPosition: 40 },
      { purpose: 'statistics', category: 'user.behavior.browsing_history', system: 'backup-us', type: 'stored', recipient: null, country: null, mechanism: null, firstPosition: 41 },
      { purpose: 'ai-training', category: 'user.behavior.browsing_history', system: 'core', type: 'used', recipient: null, country: null, mechanism: null, firstPosition: 42 },
      { purpose: 'marketing', category: 'user.contact.email', system: 'core', type: 'disclosed', recipient: 'email-platform', country: null, mechanism: null, firstPosition: 12 },
    ],
    subjects: [{ purpose: 'statistics', kind: 'visitor', subjects: 3 }, { purpose: 'statistics', kind: '', subjects: 1 }],
  });
  const stats = ropa.purposes.find((p) => p.id === 'statistics')!;

  it('counts subjects by kind, lists transfers with their safeguard (and storage outside the residency), systems and countries', () => {
    expect([stats.subjectsCount, stats.subjectCategories]).toEqual([4, [{ kind: 'visitor', subjects: 3 }, { kind: 'unnamed', subjects: 1 }]]);
    expect(stats.transfers).toEqual([
      { country: 'US', mechanism: 'none', recipient: 'ad-network', via: 'transfer', safeguard: 'none recorded' },
      { country: 'US', mechanism: null, recipient: null, via: 'storage in backup-us', safeguard: 'none recorded' },
    ]);
    expect(stats.countries).toEqual(['NL', 'US']);
    expect(ropa.purposes.find((p) => p.id === 'marketing')!.recipients).toEqual({ processor: [{ id: 'email-platform', name: 'E-mail delivery platform', country: 'IE' }] });
  });

  it('lists what was observed and never declared, with why, in the order it was first seen', () => {
    expect(ropa.undeclared.map((u) => [u.purpose, u.category, u.recipient, u.reasons])).toEqual([
      ['statistics', 'user.device.ip_address', 'ad-network', ['category-not-declared']],
      ['ai-training', 'user.behavior.browsing_history', null, ['purpose-undeclared']],
    ]);
  });

  it('writes CSV a spreadsheet cannot be tricked by', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField('-1')).toBe("'-1");
    expect(csvField(null)).toBe('');
    const lines = ropaCsv(ropa).split('\r\n');
    expect(lines[0]!.split(',')[0]).toBe('record');
    expect(lines.filter((l) => l.startsWith('declared,')).length).toBe(scenario.purposes.length);
  });

  it('says a retention rule in words', () => {
    expect(retentionText({ period: 'P1Y', from: 'collection', minimum: 'P1Y' })).toBe('P1Y from collection; at least P1Y by law');
    expect(retentionText({ period: null, from: 'collection' })).toMatch(/no fixed period/);
  });
});

describe('the report page\'s words (pure)', () => {
  it('writes dates out, names categories plainly and escapes everything', () => {
    expect(humanDate('2026-01-10T09:05:00Z')).toBe('10 January 2026, 09:05 UTC');
    expect(humanDate(null)).toBe('—');
    expect(categoryName('user.contact.email')).toBe('e-mail address');
    expect(categoryName('user.financial.bank_account')).toBe('bank account');
    expect(esc('<img src=x onerror="a">&\'')).toBe('&#60;img src=x onerror=&#34;a&#34;&#62;&#38;&#39;');
  });
});
