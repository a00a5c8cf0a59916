import { aTenant, scenario } from '../support/builders.js';
import { startLedger, type LedgerProcess } from '../support/ledger-process.js';
import { STORES, storeEnv } from '../support/postgres.js';
import { allItems, playScenario } from '../support/scenario-player.js';

/** The reference story told over HTTP to the started ledger; every expectation of its `expect` block. */
let ledger: LedgerProcess;
let t: Awaited<ReturnType<typeof aTenant>>;
let results: Awaited<ReturnType<typeof playScenario>>['results'];
let calls: Awaited<ReturnType<typeof playScenario>>['calls'];
let names: Record<string, string>;
const X = scenario.expect;
const items = allItems;

describe.each(STORES)('on %s', (store) => {
  let db: Awaited<ReturnType<typeof storeEnv>>;
  beforeAll(async () => {
    db = await storeEnv(store);
    ledger = await startLedger({ env: db.env });
    t = await aTenant(ledger);
    ({ results, calls, names } = await playScenario(t));
  });
  afterAll(async () => {
    await ledger.stop();
    await db.drop();
  });

  describe('the reference scenario over HTTP', () => {
    it('answers every call with the status the story expects, naming what it must', () => {
      for (const step of scenario.steps.filter((s: any) => s.kind === 'call')) {
        expect([step.name, calls[step.name]!.status]).toEqual([step.name, step.expect.status]);
        if (step.expect.mentions) expect(calls[step.name]!.text).toContain(step.expect.mentions);
      }
      expect(calls.erasureB!.json.dueAt).toBe('2026-05-01T09:00:00Z');
    });

    it('raises each expected finding in the append answer and lists it in GET findings', async () => {
      const all = await items(t.auditor, `${t.P}/findings?limit=1000`);
      for (const f of X.findings) {
        expect([f.eventId, results[f.eventId]!.findings.map((x) => x.code)]).toEqual([f.eventId, expect.arrayContaining([f.code])]);
        expect(all.some((x) => x.code === f.code && x.eventId === f.eventId)).toBe(true);
      }
      for (const id of X.noFindings) expect(results[id]!.findings).toEqual([]);
    });

    it('answers a re-sent event with its original position and findings', async () => {
      const step = scenario.steps.find((x: any) => x.kind === 'event' && x.event.eventId === 'a84045cc-97f3-4544-aa9f-6b9d9e6afe99');
      const again = await t.emitter('POST', `${t.P}/events`, { events: [step.event] });
      expect(again.status).toBe(200);
      for (const r of again.json.results) {
        expect(r).toMatchObject({ status: 'duplicate', position: results[step.event.eventId]!.position });
        expect(r.findings).toEqual(results[step.event.eventId]!.findings);
      }
      expect(again.json.results[0].findings.map((f: any) => f.code)).toEqual(['consent-missing']);
    });

    it('raises nothing the story does not make happen', () => {
      const allowed = new Map<string, Set<string>>();
      for (const f of X.findings) allowed.set(f.eventId, new Set([...(allowed.get(f.eventId) ?? []), f.code]));
      const alsoRight: Record<string, string[]> = {
        '7d30faab-45e1-4082-a44a-8d6c76489fb1': ['category-not-declared', 'agreement-missing', 'processing-after-erasure'],
        'a2c33b24-7edd-496c-a578-ef695b00c77d': ['processing-after-erasure'],
        'fd0bdc83-d5ea-4423-a50e-b551e9f1e3ce': ['category-not-declared'],
      };
      for (const [id, r] of Object.entries(results)) {
        const ok = new Set([...(allowed.get(id) ?? []), ...(alsoRight[id] ?? [])]);
        expect([id, r.findings.map((f) => f.code).filter((c) => !ok.has(c))]).toEqual([id, []]);
      }
    });

    it('filters findings by code, severity and subject, and pages them', async () => {
      const consent = await items(t.auditor, `${t.P}/findings?code=consent-missing`);
      expect(consent.map((f) => f.eventId)).toEqual(['a84045cc-97f3-4544-aa9f-6b9d9e6afe99']);
      expect(consent[0]).toMatchObject({ subject: 'visitor:b', severity: 'high', message: expect.stringContaining('consent') });
      const warnings = await items(t.auditor, `${t.P}/findings?severity=warning`);
      expect(warnings.every((f) => f.code === 'retention-unbounded')).toBe(true);
      expect((await items(t.auditor, `${t.P}/findings?subject=visitor:e`)).map((f) => f.code).sort()).toEqual(['category-not-declared', 'location-outside-residency', 'purpose-undeclared', 'system-unknown']);
      const paged = await items(t.auditor, `${t.P}/findings?limit=2`);
      const whole = await items(t.auditor, `${t.P}/findings?limit=1000`);
      expect(paged).toEqual(whole);
      expect((await t.auditor('GET', `${t.P}/findings?code=nonsense`)).status).toBe(400);
      expect((await t.emitter('GET', `${t.P}/findings`)).status).toBe(403);
    });

    it('flags both unbounded purposes once', async () => {
      const unbounded = await items(t.auditor, `${t.P}/findings?code=retention-unbounded`);
      expect(unbounded.map((f) => f.message.match(/"([^"]+)"/)![1]).sort()).toEqual([...X.unboundedPurposes].sort());
    });

    it('gives every listed retention status at every listed time', async () => {
      for (const r of X.retention) {
        const got = (await items(t.auditor, `${t.P}/retention?at=${encodeURIComponent(r.at)}&limit=1000`)).filter((x) => x.subject === r.subject && x.category === r.category && x.system === r.system);
        const status = got[0] ? (got[0].status === 'due-soon' ? 'held' : got[0].status) : 'absent';
        expect([r.subject, r.category, r.at, status]).toEqual([r.subject, r.category, r.at, r.status]);
      }
      const overdue = await items(t.auditor, `${t.P}/retention?at=2026-01-10T09:35:30Z&status=overdue`);
      expect(overdue.every((x) => x.status === 'overdue')).toBe(true);
    });

    it('evaluates retention-exceeded and subject-request-overdue at any moment, after the recorded findings', async () => {
      const at = '2026-02-19T09:00:00Z';
      const exceeded = await items(t.auditor, `${t.P}/findings?at=${at}&code=retention-exceeded`);
      expect(exceeded.some((f) => f.subject === 'visitor:a' && f.message.includes('user.device.cookie_id'))).toBe(false);
      expect(exceeded.some((f) => f.subject === 'visitor:b' && f.message.includes('user.device.cookie_id'))).toBe(false);
      const early = await items(t.auditor, `${t.P}/findings?at=2026-01-10T09:35:30Z&code=retention-exceeded&subject=visitor:a`);
      const collectedA = scenario.steps.find((x: any) => x.kind === 'event' && x.event.type === 'collected' && x.event.subject.id === 'visitor:a' && x.event.categories.includes('user.device.ip_address')).event.eventId;
      expect(early).toEqual([expect.objectContaining({ code: 'retention-exceeded', severity: 'medium', subject: 'visitor:a', eventId: collectedA })]);
      expect(early[0].message).toContain('user.device.ip_address');
      const overdue = await items(t.auditor, `${t.P}/findings?at=${at}&code=subject-request-overdue`);
      expect(overdue.map((f) => f.subject)).toEqual(['visitor:f']);
      const all = await items(t.auditor, `${t.P}/findings?at=${at}&limit=1000`);
      expect(await items(t.auditor, `${t.P}/findings?at=${at}&limit=3`)).toEqual(all);
      expect(all.filter((f) => f.code === 'subject-request-overdue')).toHaveLength(1);
      expect((await items(t.auditor, `${t.P}/findings?code=subject-request-overdue`))).toEqual([]);
    });

    it('lists the unanswered access request as overdue, and the erasure of b as completed with IP held by law', async () => {
      const over = await items(t.dpo, `${t.P}/subject-requests?status=overdue&at=${encodeURIComponent(X.overdueRequestAt)}`);
      expect(over.map((r) => r.id)).toEqual([names.accessF]);
      const b = (await t.dpo('GET', `${t.P}/subject-requests/${names.erasureB}`)).json;
      expect(b).toMatchObject({ type: 'erasure', status: 'completed', outcome: 'fulfilled' });
      expect(b.systems).toEqual([
        expect.objectContaining({ system: 'core', status: 'held', purpose: 'ip-logging-law', categories: ['user.device.ip_address'] }),
        { system: 'plugins', status: 'erased' },
      ]);
    });

    it('finds a subject by an identifier through the blind index, for dpo and legal only', async () => {
      const look = async (identifier: string, call = t.dpo) => call('GET', `${t.P}/subjects?identifier=${encodeURIComponent(identifier)}`);
      const d = await look(X.lookup.identifier);
      expect(d.status).toBe(200);
      expect(d.json.items).toEqual([{ subject: { id: X.lookup.subject }, categories: ['user.device.ip_address'] }]);
      expect((await look(X.lookup.identifier, t.legal)).json.items).toHaveLength(1);
      expect((await look('ip:198.51.100.250')).json.items).toEqual([]);
      expect((await look(X.lookup.identifier, t.auditor)).status).toBe(403);
      expect((await look('not-an-identifier')).status).toBe(400);
    });

    it('answers decisions from the current state, and records them', async () => {
      const P = scenario.purposes;
      const no = await t.emitter('POST', `${t.P}/decisions`, { subject: { id: 'visitor:b' }, type: 'disclosed', purpose: P[5].id, categories: ['user.contact.email'], system: 'core', recipient: 'email-platform' });
      expect(no.status).toBe(200);
      expect(no.json.allowed).toBe(false);
      expect(no.json.findings.map((f: any) => f.code)).toContain('consent-missing');
      const yes = await t.emitter('POST', `${t.P}/decisions`, { subject: { id: 'visitor:d' }, type: 'used', purpose: P[3].id, categories: ['user.device.ip_address'], system: 'core' });
      expect(yes.json).toEqual({ allowed: true, findings: [] });
      const exp = await t.auditor('GET', `${t.P}/log/export`);
      expect(exp.text.split('\n').filter((l) => l.includes('"type":"decision-made"')).length).toBe(2);
      expect((await t.emitter('POST', `${t.P}/decisions`, { subject: { id: 'x' }, type: 'teleported', purpose: 'p', categories: [], system: 'core' })).status).toBe(400);
    });
  });
});
