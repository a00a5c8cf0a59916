import { aTenant, anEvent, scenario } from '../support/builders.js';
import { startLedger, type LedgerProcess } from '../support/ledger-process.js';
import { STORES, storeEnv } from '../support/postgres.js';
import { allItems, playScenario } from '../support/scenario-player.js';

/** The answers of the reference story, over HTTP against the started ledger. */
let ledger: LedgerProcess;
let t: Awaited<ReturnType<typeof aTenant>>;
let names: Record<string, string>;
/** A moment between two steps: just before the erasure request of b is received. */
let beforeErasureRequest = '';
/** Subjects recorded by these tests beyond the story, per purpose. */
const extra: Record<string, number> = {};
const X = scenario.expect;
const events = scenario.steps.filter((s: any) => s.kind === 'event').map((s: any) => s.event);
const of = (subject: string) => events.filter((e: any) => e.subject.id === subject);
const enc = encodeURIComponent;

describe.each(STORES)('on %s', (store) => {
  let db: Awaited<ReturnType<typeof storeEnv>>;
  beforeAll(async () => {
    for (const k of Object.keys(extra)) delete extra[k];
    db = await storeEnv(store);
    ledger = await startLedger({ env: db.env });
    t = await aTenant(ledger);
    ({ names } = await playScenario(t, async (step) => {
      if (step.name === 'erasureB') {
        await new Promise((r) => setTimeout(r, 20));
        beforeErasureRequest = new Date().toISOString();
        await new Promise((r) => setTimeout(r, 20));
      }
    }));
  });
  afterAll(async () => {
    await ledger.stop();
    await db.drop();
  });

  describe('the subject access report (Art. 15)', () => {
    it('names purposes with their basis, categories, recipients, consents, requests and every event of b', async () => {
      const r = await t.dpo('GET', `${t.P}/subjects/visitor:b/report`);
      expect(r.status).toBe(200);
      const j = r.json;
      expect(j.subject.id).toBe('visitor:b');
      expect(j.controller).toEqual({ id: scenario.tenant.id, name: scenario.tenant.name });
      expect(j.purposes.map((p: any) => p.id)).toEqual(expect.arrayContaining(['chat-messaging', 'marketing', 'ip-logging-law']));
      expect(j.purposes.find((p: any) => p.id === 'marketing')).toMatchObject({ declared: true, legalBasis: 'consent', title: 'Marketing and follow-up' });
      expect(j.purposes.find((p: any) => p.id === 'ip-logging-law').lawReference).toContain('LCEN');
      expect(j.categories.map((c: any) => c.category)).toEqual(expect.arrayContaining(['user.contact.email', 'user.device.ip_address', 'user.name']));
      expect(j.recipients).toEqual([expect.objectContaining({ id: 'email-platform', kind: 'processor', country: 'IE', thirdCountry: false, disclosures: 2 })]);
      expect(j.consents).toEqual([expect.objectContaining({ purpose: 'marketing', status: 'withdrawn', history: [expect.objectContaining({ status: 'given' }), expect.objectContaining({ status: 'withdrawn' })] })]);
      expect(j.requests).toEqual([expect.objectContaining({ kind: 'subject', id: names.erasureB, type: 'erasure', outcome: 'fulfilled' })]);
      expect(j.sources.length).toBe(of('visitor:b').filter((e: any) => e.type === 'collected').length);
      // Every event, in log order, as recorded, identifiers opened for the DPO.
      expect(j.history.map((h: any) => h.event.eventId)).toEqual(of('visitor:b').map((e: any) => e.eventId));
      expect(j.history.every((h: any, i: number) => /^[0-9a-f]{64}$/.test(h.hash) && (i === 0 || h.position > j.history[i - 1].position))).toBe(true);
      expect(j.subject.identifiers.map((i: any) => `${i.kind}:${i.value}`).sort()).toEqual(['email:[erased]', 'ip:198.51.100.23']); // b's erasure request was completed: the e-mail's key is gone, the IP is under a legal hold
      // The IP is still held in core under the legal minimum of ip-logging-law.
      const ip = j.retention.find((h: any) => h.category === 'user.device.ip_address' && h.system === 'core');
      expect(ip.purposes).toEqual(expect.arrayContaining(['ip-logging-law']));
      expect(ip.legalHold).toMatchObject({ purpose: 'ip-logging-law', until: '2027-01-10T10:05:00Z' });
      expect(j.rights.map((x: any) => x.right)).toEqual(expect.arrayContaining(['rectification', 'erasure', 'complaint']));
    });

    it('lists third-country transfers with their safeguard', async () => {
      const c = (await t.dpo('GET', `${t.P}/subjects/visitor:c/report`)).json;
      expect(c.transfers).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'transfer', country: 'US', safeguard: 'none', recipient: 'ad-network' })]));
      const e = (await t.dpo('GET', `${t.P}/subjects/visitor:e/report`)).json;
      expect(e.transfers).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'storage', country: 'US', system: 'backup-us' })]));
      expect(e.purposes.find((p: any) => p.id === 'ai-training')).toMatchObject({ declared: false, legalBasis: null });
    });

    it('answers as the ledger knew it at asOf', async () => {
      const r = await t.dpo('GET', `${t.P}/subjects/visitor:b/report?asOf=${enc(beforeErasureRequest)}`);
      expect(r.status).toBe(200);
      expect(r.json.asOf).toBe(beforeErasureRequest.replace('.000Z', 'Z').replace(/\.(\d{3})Z$/, '.$1Z'));
      expect(r.json.requests).toEqual([]);
      const before = of('visitor:b').slice(0, of('visitor:b').findIndex((e: any) => e.eventId === '8db560c6-5054-49e6-ab35-147357b43a48'));
      expect(r.json.history.map((h: any) => h.event.eventId)).toEqual(before.map((e: any) => e.eventId));
      const early = await t.dpo('GET', `${t.P}/subjects/visitor:b/report?asOf=2020-01-01T00:00:00Z`);
      expect(early.status).toBe(404);
    });

    it('reads as a page a person can read: plain words, dates written out, every value escaped', async () => {
      const r = await t.dpo('GET', `${t.P}/subjects/visitor:b/report?format=html`);
      expect(r.status).toBe(200);
      expect(r.type).toContain('text/html');
      for (const text of ['visitor:b', 'Marketing and follow-up', 'your consent', 'E-mail delivery platform', 'Ireland', 'Core infrastructure (Netherlands)', '10 January 2026', 'withdrawn', 'Your rights']) expect(r.text).toContain(text);
      expect(r.text).not.toMatch(/\{"|"eventId"/);
      // Purposes, systems and recipients by their declared titles and names, not the ids services send.
      expect(r.text).not.toMatch(/<td>(core|marketing|chat-messaging)<\/td>/);
      const evil = anEvent({ subject: { id: 'visitor:<script>alert(1)</script>' } });
      expect((await t.emitter('POST', `${t.P}/events`, { events: [evil] })).status).toBe(200);
      extra[evil.purpose as string] = (extra[evil.purpose as string] ?? 0) + 1;
      const page = await t.dpo('GET', `${t.P}/subjects/${enc('visitor:<script>alert(1)</script>')}/report?format=html`);
      expect(page.status).toBe(200);
      expect(page.text).not.toContain('<script>');
      expect(page.text).toContain('&#60;script&#62;');
      // A second wall: the browser runs no script and loads nothing from elsewhere on the page.
      expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'unsafe-inline'/);
      expect(page.headers['x-content-type-options']).toBe('nosniff');
      // Nothing of it is kept by a browser or a proxy, as no answer of the ledger is.
      expect(page.headers['cache-control']).toBe('no-store');
      expect((await t.dpo('GET', `${t.P}/events?subject=visitor:b&limit=1`)).headers['cache-control']).toBe('no-store');
    });

    it('keeps a sealed authority request and its disclosures out of the report until unsealed', async () => {
      const sealed = (await t.dpo('GET', `${t.P}/subjects/visitor:d/report`)).json;
      expect(JSON.stringify(sealed)).not.toContain(X.sealed.authority);
      expect(sealed.history.map((h: any) => h.event.eventId)).not.toContain('0ed9ba93-0381-468a-a78f-9c5280a81a14');
      const at = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 20));
      expect((await t.legal('POST', `${t.P}/authority-requests/${names.arD}/unseal`, {})).status).toBe(200);
      const open = (await t.legal('GET', `${t.P}/subjects/visitor:d/report`)).json;
      expect(open.recipients).toEqual([expect.objectContaining({ id: X.sealed.authority, kind: 'public-authority', authorityRequests: [names.arD] })]);
      expect(open.requests).toEqual([expect.objectContaining({ kind: 'authority', id: names.arD, reference: 'PV-2026-0310', decision: 'comply' })]);
      // As the ledger knew it before the seal was lifted: still withheld.
      const then = (await t.dpo('GET', `${t.P}/subjects/visitor:d/report?asOf=${enc(at)}`)).json;
      expect(JSON.stringify(then)).not.toContain(X.sealed.authority);
    });

    it('is refused to the auditor and the emitter, and answers 404 for an unknown subject and 400 for a bad format', async () => {
      expect((await t.auditor('GET', `${t.P}/subjects/visitor:b/report`)).status).toBe(403);
      expect((await t.emitter('GET', `${t.P}/subjects/visitor:b/report`)).status).toBe(403);
      const unknown = await t.dpo('GET', `${t.P}/subjects/visitor:nobody/report`);
      expect([unknown.status, unknown.type]).toEqual([404, expect.stringContaining('application/problem+json')]);
      expect((await t.dpo('GET', `${t.P}/subjects/visitor:b/report?format=pdf`)).status).toBe(400);
      expect((await t.dpo('GET', `${t.P}/subjects/visitor:b/report?asOf=yesterday`)).status).toBe(400);
    });
  });

  describe('the erasure request of b', () => {
    it('names whom to tell (Art. 19): everyone the erased categories were disclosed to', async () => {
      const r = await t.dpo('GET', `${t.P}/subject-requests/${names.erasureB}`);
      expect(r.json.notify).toEqual([{ recipient: 'email-platform', kind: 'processor', categories: ['user.contact.email'] }]);
      expect(r.json.systems).toEqual(expect.arrayContaining([expect.objectContaining({ system: 'core', status: 'held', legalBasis: expect.stringContaining('LCEN') })]));
    });
  });

  describe('who looked', () => {
    it('records every read of subject data in the log, never the value looked up', async () => {
      const before = await allItems(t.auditor, `${t.P}/access-log`);
      await t.legal('GET', `${t.P}/subjects/visitor:c/report`);
      await t.dpo('GET', `${t.P}/subjects?identifier=${enc('ip:203.0.113.99')}`);
      await t.dpo('GET', `${t.P}/events?subject=visitor:a`);
      await t.auditor('GET', `${t.P}/events?subject=visitor:a`);
      const after = await allItems(t.auditor, `${t.P}/access-log`);
      const added = after.slice(before.length);
      expect(added.map((x) => [x.what, x.actor.role, x.subjects.map((s: any) => s.id)])).toEqual([
        ['report', 'legal', ['visitor:c']],
        ['lookup', 'dpo', ['visitor:d']],
        ['audit-trail', 'dpo', ['visitor:a']],
      ]);
      expect(added[1].identifierKind).toBe('ip');
      expect(JSON.stringify(after)).not.toContain('203.0.113.99');
      const forC = await allItems(t.dpo, `${t.P}/access-log?subject=visitor:c`);
      expect(forC.every((x) => x.subjects.some((s: any) => s.id === 'visitor:c'))).toBe(true);
      expect(forC.length).toBeGreaterThanOrEqual(2);
      // In the same tamper-evident log as everything else.
      const exported = await t.auditor('GET', `${t.P}/log/export`);
      expect(exported.text.split('\n').filter((l) => l.includes('"type":"accessed"')).length).toBe(after.length);
      expect((await t.legal('GET', `${t.P}/access-log`)).status).toBe(403);
      expect((await t.emitter('GET', `${t.P}/access-log`)).status).toBe(403);
    });
  });

  describe('records of processing (Art. 30)', () => {
    it('lists each purpose with its basis, categories, subjects, recipients, transfers, retention, systems and countries', async () => {
      const r = await t.auditor('GET', `${t.P}/ropa`);
      expect(r.status).toBe(200);
      const byId = new Map(r.json.purposes.map((p: any) => [p.id, p]));
      for (const p of scenario.purposes) expect(byId.get(p.id)).toMatchObject({ title: p.title, legalBasis: p.legalBasis, categories: p.categories });
      const subjectsOf = (purpose: string) => new Set(events.filter((e: any) => e.purpose === purpose).map((e: any) => e.subject.id)).size + (extra[purpose] ?? 0);
      for (const p of scenario.purposes) expect([p.id, (byId.get(p.id) as any).subjectsCount]).toEqual([p.id, subjectsOf(p.id)]);
      const ipLaw: any = byId.get('ip-logging-law');
      expect(ipLaw.lawReference).toContain('LCEN');
      expect(ipLaw.recipients['public-authority'].map((x: any) => x.id)).toEqual(['police-paris']);
      expect(ipLaw.retention).toMatchObject({ period: 'P1Y', minimum: 'P1Y' });
      expect(ipLaw.subjectCategories).toEqual([{ kind: 'visitor', subjects: subjectsOf('ip-logging-law') }]);
      const marketing: any = byId.get('marketing');
      expect(marketing.recipients.processor).toEqual([{ id: 'email-platform', name: 'E-mail delivery platform', country: 'IE' }]);
      const stats: any = byId.get('statistics');
      expect(stats.transfers).toEqual(expect.arrayContaining([expect.objectContaining({ country: 'US', mechanism: 'none', recipient: 'ad-network' })]));
      expect(stats.systems.map((s: any) => s.id)).toEqual(['backup-us', 'core', 'legacy-crm']);
      expect(stats.countries).toEqual(['NL', 'US']);
    });

    it('shows what was observed but never declared, and why', async () => {
      const u = (await t.auditor('GET', `${t.P}/ropa`)).json.undeclared;
      expect(u).toEqual(expect.arrayContaining([
        expect.objectContaining({ purpose: 'ai-training', category: 'user.behavior.browsing_history', reasons: ['purpose-undeclared'] }),
        expect.objectContaining({ purpose: 'statistics', category: 'user.device.ip_address', recipient: 'ad-network', reasons: ['category-not-declared'] }),
        expect.objectContaining({ purpose: 'statistics', category: 'user.behavior.browsing_history', systems: ['legacy-crm'], reasons: ['system-unknown'] }),
      ]));
    });

    it('answers as CSV and as of a past moment', async () => {
      const csv = await t.dpo('GET', `${t.P}/ropa?format=csv`);
      expect(csv.status).toBe(200);
      expect(csv.type).toContain('text/csv');
      const lines = csv.text.trim().split('\r\n');
      expect(lines[0]).toMatch(/^record,purpose,title,legal_basis/);
      expect(lines.filter((l) => l.startsWith('declared,')).length).toBe(scenario.purposes.length);
      expect(lines.some((l) => l.startsWith('undeclared,ai-training,'))).toBe(true);
      expect(csv.text).toContain('FR LCEN art. 6-II; decree 2011-219');
      const past = (await t.auditor('GET', `${t.P}/ropa?asOf=${enc(beforeErasureRequest)}`)).json;
      const now = (await t.auditor('GET', `${t.P}/ropa`)).json;
      const count = (j: any, id: string) => j.purposes.find((p: any) => p.id === id).subjectsCount;
      expect(count(past, 'statistics')).toBeLessThan(count(now, 'statistics'));
      expect(JSON.stringify(past.undeclared)).not.toContain('ai-training');
      const before = (await t.auditor('GET', `${t.P}/ropa?asOf=2020-01-01T00:00:00Z`)).json;
      expect([before.purposes, before.undeclared]).toEqual([[], []]);
      expect((await t.emitter('GET', `${t.P}/ropa`)).status).toBe(403);
    });
  });

  describe('the records of processing as a page', () => {
    it('reads as a printable record per purpose, with what was observed but not declared, every value escaped', async () => {
      const r = await t.auditor('GET', `${t.P}/ropa?format=html`);
      expect([r.status, r.type]).toEqual([200, expect.stringContaining('text/html')]);
      expect(r.headers['content-security-policy']).toContain("default-src 'none'");
      const html = r.text;
      expect(html).toMatch(/^<!doctype html>/);
      expect(html).toContain(`<h1>Records of processing activities of ${scenario.tenant.name}</h1>`);
      for (const p of scenario.purposes) expect(html).toContain(`<h2>${p.title}</h2>`);
      // Art. 30(1) in words: a basis, a law reference, a retention in words, recipients by kind, a transfer without safeguard marked.
      expect(html).toContain('compliance with a legal obligation (Art. 6(1)(c))');
      expect(html).toContain('FR LCEN art. 6-II; decree 2011-219');
      expect(html).toContain('1 year from collection; kept at least 1 year by law');
      expect(html).toContain('Processors: E-mail delivery platform (Ireland)');
      expect(html).toMatch(/United States: transfer to ad-network; safeguard: <span class="flag">/);
      // Observed but not declared: the AI training nobody declared, in words.
      const undeclared = html.slice(html.indexOf('<h2>Processing observed but not declared</h2>'));
      expect(undeclared).toContain('ai-training');
      expect(undeclared).toContain('the purpose is not declared');
      expect(html).not.toContain('undefined');
      expect(html).not.toMatch(/\[object /);
      const past = await t.auditor('GET', `${t.P}/ropa?format=html&asOf=2020-01-01T00:00:00Z`);
      expect(past.text).toContain('No purpose was declared.');
      expect(past.text).toContain('as the ledger knew them on 1 January 2020, 00:00 UTC');
      expect((await t.auditor('GET', `${t.P}/ropa?format=pdf`)).status).toBe(400);
    });
  });

  describe('the disclosure register', () => {
    it('lists what went to authorities, each with its authority request', async () => {
      const d = await allItems(t.legal, `${t.P}/disclosures?recipientKind=public-authority`);
      expect(d.map((x) => x.eventId)).toEqual(['a2c33b24-7edd-496c-a578-ef695b00c77d', '0ed9ba93-0381-468a-a78f-9c5280a81a14']);
      expect(d[0].authorityRequest).toBeUndefined();
      expect(d[1]).toMatchObject({ subject: { id: 'visitor:d' }, recipient: { id: 'police-paris', kind: 'public-authority', country: 'FR' }, authorityRequest: { id: names.arD, reference: 'PV-2026-0310', decision: 'comply' } });
    });

    it('filters by recipient and time, pages, and refuses the emitter', async () => {
      const email = await allItems(t.auditor, `${t.P}/disclosures?recipient=email-platform`);
      expect(email.map((x) => x.subject.id)).toEqual(['visitor:b', 'visitor:b']);
      const march = await allItems(t.auditor, `${t.P}/disclosures?recipient=email-platform&from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z`);
      expect(march.map((x) => x.eventId)).toEqual(['a84045cc-97f3-4544-aa9f-6b9d9e6afe99']);
      expect(await allItems(t.auditor, `${t.P}/disclosures?recipient=police-paris&recipientKind=processor`)).toEqual([]);
      const first = await t.auditor('GET', `${t.P}/disclosures?limit=1`);
      expect(first.json.items.length).toBe(1);
      expect(first.json.nextCursor).toEqual(expect.any(String));
      const all = await allItems(t.auditor, `${t.P}/disclosures?limit=1`);
      expect(all.length).toBe(events.filter((e: any) => e.type === 'disclosed' || (e.type === 'transferred' && e.details?.recipient)).length);
      expect((await t.emitter('GET', `${t.P}/disclosures`)).status).toBe(403);
      expect((await t.auditor('GET', `${t.P}/disclosures?recipientKind=friend`)).status).toBe(400);
    });

    it('lists under an authority request the disclosures made under it', async () => {
      const r = await t.legal('GET', `${t.P}/authority-requests/${names.arD}`);
      expect(r.json.disclosures).toEqual([expect.objectContaining({ eventId: '0ed9ba93-0381-468a-a78f-9c5280a81a14', subject: { id: 'visitor:d' }, categories: ['user.device.ip_address'] })]);
    });

    it('says what an authority request covers: where each subject named is held, and what authorities received of it before', async () => {
      const d = (await t.legal('GET', `${t.P}/authority-requests/${names.arD}`)).json.covers;
      expect(d).toEqual([{
        subject: { id: 'visitor:d' }, erasedFrom: [], disclosedToAuthorities: [],
        held: [expect.objectContaining({ system: 'core', country: 'NL', categories: expect.arrayContaining(['user.device.ip_address']) })],
      }]);
      // A new request naming c, whose IP went to the police once without any request (authority-request-missing).
      const created = await t.legal('POST', `${t.P}/authority-requests`, { authority: 'police-paris', reference: 'PJ-2026-77', legalBasis: 'Code de procédure pénale, art. 77-1-1', receivedAt: '2026-04-01T09:00:00Z', subjects: [{ id: 'visitor:c' }, { id: 'visitor:nobody' }] });
      expect(created.status).toBe(201);
      const c = (await t.legal('GET', `${t.P}/authority-requests/${created.json.id}`)).json.covers;
      expect(c[0]).toMatchObject({ subject: { id: 'visitor:c' }, disclosedToAuthorities: [{ recipient: 'police-paris', authorityRequest: null, occurredAt: '2026-03-01T09:00:00Z', categories: ['user.device.ip_address'] }] });
      expect(c[1]).toEqual({ subject: { id: 'visitor:nobody' }, held: [], erasedFrom: [], disclosedToAuthorities: [] });
    });
  });

  describe('the audit trail', () => {
    it('streams everything matching as NDJSON', async () => {
      const r = await t.auditor('GET', `${t.P}/events?format=ndjson`);
      expect(r.status).toBe(200);
      expect(r.type).toContain('application/x-ndjson');
      const lines = r.text.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.map((l) => l.event.eventId).slice(0, events.length)).toEqual(events.map((e: any) => e.eventId));
      expect(lines[0].event.subject.identifierKinds).toEqual(['ip']);
      const b = (await t.auditor('GET', `${t.P}/events?format=ndjson&subject=visitor:b&type=disclosed`)).text.trim().split('\n');
      expect(b.length).toBe(of('visitor:b').filter((e: any) => e.type === 'disclosed').length);
    });

    it('is refused to the emitter', async () => {
      expect((await t.emitter('GET', `${t.P}/events`)).status).toBe(403);
      expect((await t.emitter('GET', `${t.P}/findings`)).status).toBe(403);
    });
  });
});
