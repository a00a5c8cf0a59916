import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { aTenant, anEvent, scenario } from '../support/builders.js';
import { client, startLedger, type LedgerProcess } from '../support/ledger-process.js';
import { ROUTES } from '../../src/api/http/openapi.js';

let ledger: LedgerProcess;
let t: Awaited<ReturnType<typeof aTenant>>;
beforeAll(async () => {
  ledger = await startLedger({ env: { PDL_LOG_LEVEL: 'debug' } });
  t = await aTenant(ledger);
});
afterAll(() => ledger.stop());

/**
 * Announces a body larger than the limit and sends only its start: the server answers 413 without
 * reading it all (a client writing the whole body would race the server closing the connection).
 */
function oversizedPost(path: string, token: string, bytes: number): Promise<{ status: number; head: string }> {
  const u = new URL(ledger.base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname, () => {
      socket.write(`POST ${path} HTTP/1.1\r\nhost: ${u.host}\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: ${bytes}\r\n\r\n{"events":[`);
    });
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end >= 0) { socket.destroy(); resolve({ status: Number(text.split(' ')[1]), head: text.slice(0, end) }); }
    });
    socket.on('error', reject);
  });
}

/** Sends `bytes` as they are on a new connection, and reads the whole answer until the server closes it. */
function rawExchange(bytes: string): Promise<{ status: number; head: string; body: string }> {
  const u = new URL(ledger.base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname, () => socket.write(bytes));
    let text = '';
    socket.on('data', (d) => { text += d.toString('utf8'); });
    socket.on('close', () => {
      const end = text.indexOf('\r\n\r\n');
      resolve({ status: Number(text.split(' ')[1]), head: text.slice(0, end), body: text.slice(end + 4) });
    });
    socket.on('error', reject);
  });
}

const isProblem = (r: { type: string; json: any; status: number }) => r.type.startsWith('application/problem+json') && r.json?.status === r.status && typeof r.json?.title === 'string';

describe('tenants and tokens', () => {
  it('refuses a missing or unknown token with 401 problem+json', async () => {
    const r = await client(ledger.base)('GET', `${t.P}/purposes`);
    expect(r.status).toBe(401);
    expect(isProblem(r)).toBe(true);
    expect((await client(ledger.base, 'nope')('GET', `${t.P}/purposes`)).status).toBe(401);
  });

  it('keeps tenants apart and answers 404 for an unknown one', async () => {
    await t.admin('PUT', '/v1/tenants/other-co', { name: 'Other' });
    const other = (await t.admin('POST', '/v1/tenants/other-co/tokens', { role: 'dpo' })).json.token;
    expect((await client(ledger.base, other)('GET', `${t.P}/events`)).status).toBe(403);
    expect((await client(ledger.base, ledger.adminToken)('GET', '/v1/tenants/no-such/purposes')).status).toBe(404);
  });

  it('lists every tenant to the bootstrap admin, and to no token', async () => {
    await t.admin('PUT', '/v1/tenants/listed-co', { name: 'Listed', residency: ['FR'] });
    const r = await client(ledger.base, ledger.adminToken)('GET', '/v1/tenants');
    expect(r.status).toBe(200);
    expect(r.json.items).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'listed-co', name: 'Listed', residency: ['FR'] }), expect.objectContaining({ id: 'chatbox' })]));
    expect(r.json.items.map((x: { id: string }) => x.id)).toEqual([...r.json.items.map((x: { id: string }) => x.id)].sort());
    expect(r.json.nextCursor).toBeNull();
    expect((await client(ledger.base, t.tokens.admin)('GET', '/v1/tenants')).status).toBe(403);
    expect((await client(ledger.base)('GET', '/v1/tenants')).status).toBe(401);
  });

  it('pages the tenants, the tokens and the declarations, limit at a time, each item once', async () => {
    // Every page of `path` (limit 2) from `from` (a cursor) until the last, its ids in the order given.
    const walk = async (ask: ReturnType<typeof client>, path: string, from: string | null = null) => {
      const ids: string[] = [];
      for (let cursor = from, pages = 0; ; pages++) {
        const r = await ask('GET', `${path}${path.includes('?') ? '&' : '?'}limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(r.status).toBe(200);
        expect(r.json.items.length).toBeLessThanOrEqual(2);
        ids.push(...r.json.items.map((x: { id: string }) => x.id));
        cursor = r.json.nextCursor;
        if (cursor === null || pages > 50) return ids;
      }
    };
    const root = client(ledger.base, ledger.adminToken);
    for (const id of ['paged-c', 'paged-a', 'paged-b']) await root('PUT', `/v1/tenants/${id}`, { name: id });
    const all = (await root('GET', '/v1/tenants')).json.items.map((x: { id: string }) => x.id);
    expect(await walk(root, '/v1/tenants')).toEqual(all);
    expect(all).toEqual(expect.arrayContaining(['paged-a', 'paged-b', 'paged-c']));
    // A tenant created between two pages comes in the page where its id belongs, nothing given twice.
    const first = await root('GET', '/v1/tenants?limit=1');
    await root('PUT', '/v1/tenants/zz-paged-late', { name: 'Late' });
    const rest = await walk(root, '/v1/tenants', first.json.nextCursor);
    expect([...first.json.items.map((x: { id: string }) => x.id), ...rest]).toEqual([...all, 'zz-paged-late'].sort());

    const admin = client(ledger.base, (await root('POST', '/v1/tenants/paged-a/tokens', { role: 'admin' })).json.token);
    const issued = [];
    for (let i = 0; i < 4; i++) issued.push((await admin('POST', '/v1/tenants/paged-a/tokens', { role: 'auditor', label: `t${i}` })).json.id);
    const tokens = await walk(admin, '/v1/tenants/paged-a/tokens');
    expect(tokens).toHaveLength(5);
    expect(tokens.slice(1)).toEqual(issued);

    const purposes = (await t.dpo('GET', `${t.P}/purposes`)).json.items.map((x: { id: string }) => x.id);
    expect(purposes.length).toBeGreaterThan(2);
    expect(await walk(t.dpo, `${t.P}/purposes`)).toEqual(purposes);
    expect(await walk(t.dpo, `${t.P}/purposes?asOf=2000-01-01T00:00:00Z`)).toEqual([]);

    for (const bad of [`${t.P}/purposes?cursor=nope`, `${t.P}/purposes?limit=0`, '/v1/tenants/paged-a/tokens?limit=1001', `${t.P}/systems?cursor=${Buffer.from('p12').toString('base64url')}`]) {
      const r = await (bad.startsWith('/v1/tenants/paged-a') ? admin : t.dpo)('GET', bad);
      expect(r.status).toBe(400);
      expect(isProblem(r)).toBe(true);
    }
  });

  it('stops a revoked token at once', async () => {
    const issued = (await t.admin('POST', `${t.P}/tokens`, { role: 'auditor', label: 'temp' })).json;
    expect(issued.token).toMatch(/^pdl_/);
    const c = client(ledger.base, issued.token);
    expect((await c('GET', `${t.P}/events`)).status).toBe(200);
    expect((await t.admin('DELETE', `${t.P}/tokens/${issued.id}`)).status).toBe(204);
    expect((await c('GET', `${t.P}/events`)).status).toBe(401);
  });

  it('shows the token secret once and never lists it', async () => {
    const r = await client(ledger.base, t.tokens.admin)('GET', `${t.P}/tokens`);
    expect(r.status).toBe(200);
    expect(r.text).not.toContain(t.tokens.dpo);
    expect(r.json.items.length).toBeGreaterThanOrEqual(5);
  });

  it('lets an emitter restricted to systems report only for them', async () => {
    const tok = (await t.admin('POST', `${t.P}/tokens`, { role: 'emitter', systems: ['core'] })).json.token;
    const c = client(ledger.base, tok);
    expect((await c('POST', `${t.P}/events`, { events: [anEvent()] })).status).toBe(200);
    const r = await c('POST', `${t.P}/events`, { events: [anEvent(), anEvent({ system: 'plugins' })] });
    expect(r.status).toBe(403);
    expect(r.json.detail).toContain('plugins');
  });
});

describe('declarations', () => {
  it('records versions and answers the one in force at asOf', async () => {
    const first = await t.dpo('PUT', `${t.P}/systems/crm`, { name: 'CRM', country: 'NL' });
    expect(first.status).toBe(201);
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    const second = await t.dpo('PUT', `${t.P}/systems/crm`, { name: 'CRM', country: 'DE' });
    expect(second.json.version).toBe(2);
    expect((await t.auditor('GET', `${t.P}/systems/crm`)).json.country).toBe('DE');
    expect((await t.auditor('GET', `${t.P}/systems/crm?asOf=${encodeURIComponent(between)}`)).json.country).toBe('NL');
    expect((await t.auditor('GET', `${t.P}/systems?asOf=2000-01-01T00:00:00Z`)).json.items).toEqual([]);
  });

  it('refuses a bad declaration with field paths and records nothing', async () => {
    const r = await t.dpo('PUT', `${t.P}/purposes/broken`, { title: 'x', legalBasis: 'because', categories: [], retention: { period: 'soon', from: 'collection' } });
    expect(r.status).toBe(400);
    expect(r.json.errors.map((e: { path: string }) => e.path).sort()).toEqual(['categories', 'legalBasis', 'retention.period']);
    expect((await t.dpo('GET', `${t.P}/purposes/broken`)).status).toBe(404);
    const forever = await t.dpo('PUT', `${t.P}/purposes/broken`, { title: 'x', legalBasis: 'consent', categories: ['user.contact.email'], retention: { period: 'P999999999Y', from: 'collection', minimum: 'P1001Y' } });
    expect(forever.status).toBe(400);
    expect(forever.json.errors).toEqual([
      { path: 'retention.period', message: 'must be an ISO 8601 duration such as PT30M, P6M or P1Y, of at most 1000 years' },
      { path: 'retention.minimum', message: 'must be an ISO 8601 duration such as PT30M, P6M or P1Y, of at most 1000 years' },
    ]);
    expect((await t.dpo('GET', `${t.P}/purposes/broken`)).status).toBe(404);
  });

  it('lets only admin and dpo declare', async () => {
    expect((await t.auditor('PUT', `${t.P}/systems/x`, { name: 'X', country: 'NL' })).status).toBe(403);
    expect((await t.auditor('GET', `${t.P}/purposes`)).json.items.length).toBe(scenario.purposes.length);
    expect((await t.emitter('GET', `${t.P}/purposes`)).status).toBe(403);
  });
});

describe('recording events', () => {
  it('records, answers duplicates with the original position and refuses a changed duplicate', async () => {
    const e = anEvent();
    const first = await t.emitter('POST', `${t.P}/events`, { events: [e] });
    expect(first.status).toBe(200);
    const res = first.json.results[0];
    expect(res).toMatchObject({ eventId: e.eventId, status: 'recorded', findings: [] });
    expect(res.hash).toMatch(/^[0-9a-f]{64}$/);
    const again = await t.emitter('POST', `${t.P}/events`, { events: [anEvent(), e] });
    expect(again.json.results[1]).toEqual({ ...res, status: 'duplicate' });
    const changed = await t.emitter('POST', `${t.P}/events`, { events: [{ ...e, purpose: 'marketing' }] });
    expect(changed.status).toBe(409);
    expect(changed.json.eventIds).toEqual([e.eventId]);
  });

  it('records nothing of a batch with one bad event', async () => {
    const subject = `visitor:${randomUUID()}`;
    const r = await t.emitter('POST', `${t.P}/events`, { events: [anEvent({ subject: { id: subject } }), anEvent({ subject: { id: subject }, occurredAt: 'yesterday' })] });
    expect(r.status).toBe(400);
    expect(r.json.errors[0].path).toBe('events[1].occurredAt');
    expect((await t.dpo('GET', `${t.P}/events?subject=${encodeURIComponent(subject)}`)).json.items).toEqual([]);
  });

  it('gives positions without gaps to concurrent batches', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => t.emitter('POST', `${t.P}/events`, { events: [anEvent(), anEvent()] })));
    const positions = answers.flatMap((a) => a.json.results.map((x: { position: number }) => x.position)).sort((a, b) => a - b);
    expect(new Set(positions).size).toBe(40);
    expect(positions[39] - positions[0]).toBe(39);
  });

  it('answers precise problems for bad bodies', async () => {
    const cases: Array<[unknown, number]> = [['{"events": [', 400], [undefined, 400], [{ events: [] }, 400], [{ events: 'x' }, 400], ['[]', 400]];
    for (const [body, status] of cases) {
      const r = await t.emitter('POST', `${t.P}/events`, body);
      expect([r.status, isProblem(r)]).toEqual([status, true]);
    }
    const big = await oversizedPost(`${t.P}/events`, t.tokens.emitter, 9 << 20);
    expect(big.status).toBe(413);
    expect(big.head).toMatch(/content-type: application\/problem\+json/i);
  });

  it('takes bodies as JSON only: a form or text body is a 415 that repeats nothing of it', async () => {
    const body = JSON.stringify({ events: [anEvent({ subject: { id: 'visitor:jane', identifiers: { email: 'jane@example.org' } } })] });
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'text/plain; charset=utf-8']) {
      const r = await t.emitter('POST', `${t.P}/events`, body, { 'content-type': type });
      expect([r.status, isProblem(r), r.json?.type]).toEqual([415, true, 'https://pdl.dev/problems/unsupported-media-type']);
      expect(r.text).not.toMatch(/jane/);
    }
    // The same bytes as JSON are recorded.
    expect((await t.emitter('POST', `${t.P}/events`, body, { 'content-type': 'application/json; charset=utf-8' })).status).toBe(200);
  });
});

describe('the audit trail', () => {
  it('filters, pages with a cursor, and opens identifiers only for dpo and legal', async () => {
    const subject = `visitor:${randomUUID()}`;
    const events = Array.from({ length: 5 }, (_, i) => anEvent({ subject: { id: subject, identifiers: { email: `p${i}@example.org` } }, categories: ['user.contact.email'], purpose: 'chat-messaging' }));
    await t.emitter('POST', `${t.P}/events`, { events });
    const page1 = await t.dpo('GET', `${t.P}/events?subject=${encodeURIComponent(subject)}&limit=3`);
    expect(page1.json.items.map((i: any) => i.event.eventId)).toEqual(events.slice(0, 3).map((e) => e.eventId));
    const page2 = await t.dpo('GET', `${t.P}/events?subject=${encodeURIComponent(subject)}&limit=3&cursor=${page1.json.nextCursor}`);
    expect(page2.json.items.map((i: any) => i.event.eventId)).toEqual(events.slice(3).map((e) => e.eventId));
    expect(page2.json.nextCursor).toBeNull();
    expect(page1.json.items[0].event.subject.identifiers).toEqual({ email: 'p0@example.org' });
    const audit = await t.auditor('GET', `${t.P}/events?subject=${encodeURIComponent(subject)}`);
    expect(audit.text).not.toContain('@example.org');
    expect(audit.json.items[0].event.subject).toEqual({ id: subject, identifierKinds: ['email'] });
    expect((await t.legal('GET', `${t.P}/events?subject=${encodeURIComponent(subject)}&category=user.contact.email&type=collected`)).json.items.length).toBe(5);
    expect((await t.dpo('GET', `${t.P}/events?subject=${encodeURIComponent(subject)}&from=2027-01-01T00:00:00Z`)).json.items).toEqual([]);
  });

  it('refuses an unknown filter or a forged cursor', async () => {
    expect((await t.dpo('GET', `${t.P}/events?subjet=x`)).json.errors[0].path).toBe('query.subjet');
    // A parameter of the route's path is named as one, not as a query parameter.
    expect((await t.dpo('GET', `${t.P}/subject-requests/not-an-id`)).json.errors).toEqual([{ path: 'path.id', message: expect.stringContaining('UUID') }]);
    expect((await t.dpo('GET', `${t.P}/events/not-an-id/proof`)).json.errors[0].path).toBe('path.eventId');
    expect((await t.dpo('GET', `${t.P}/subjects/${encodeURIComponent('a\u0001b')}/report`)).json.errors[0].path).toBe('path.subject');
    expect((await t.dpo('GET', `${t.P}/events?cursor=abc`)).status).toBe(400);
    expect((await t.emitter('GET', `${t.P}/events`)).status).toBe(403);
  });
});

describe('subject and authority requests', () => {
  it('refuse a date of receipt later than tomorrow (a mistyped year would keep the request out of every list until then), and record nothing', async () => {
    const later = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const subject = await t.dpo('POST', `${t.P}/subject-requests`, { type: 'access', subject: { id: 'visitor:later' }, receivedAt: later });
    expect([subject.status, subject.json.errors]).toEqual([400, [{ path: 'receivedAt', message: expect.stringMatching(/^must not be later than now \(the ledger's clock reads \d{4}-/) }]]);
    const authority = await t.legal('POST', `${t.P}/authority-requests`, { authority: 'police-paris', reference: 'R-1', legalBasis: 'art. 60-1', receivedAt: '2099-01-01T00:00:00Z', subjects: [{ id: 'visitor:later' }] });
    expect([authority.status, authority.json.errors?.[0]?.path]).toEqual([400, 'receivedAt']);
    expect((await t.dpo('GET', `${t.P}/subject-requests?at=2100-01-01T00:00:00Z`)).json.items.filter((r: any) => r.subject.id === 'visitor:later')).toEqual([]);
    // Today, and within a day ahead (another time zone's today), is taken.
    const soon = await t.dpo('POST', `${t.P}/subject-requests`, { type: 'access', subject: { id: 'visitor:later' }, receivedAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(soon.status).toBe(201);
  });
});

describe('a request that is not valid HTTP', () => {
  it('is answered with a problem document, as any other refusal, and its connection closed', async () => {
    const cases = [
      { bytes: 'GARBAGE\r\n\r\n', status: 400, type: 'malformed-request' },
      { bytes: `POST ${t.P}/events HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n`, status: 400, type: 'malformed-request' },
      { bytes: `POST ${t.P}/events HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\nzz\r\n`, status: 400, type: 'malformed-request' },
      { bytes: `GET /health HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431, type: 'headers-too-large' },
    ];
    for (const c of cases) {
      const r = await rawExchange(c.bytes);
      expect(r.status).toBe(c.status);
      expect(r.head).toMatch(/content-type: application\/problem\+json/i);
      expect(JSON.parse(r.body)).toMatchObject({ status: c.status, type: `https://pdl.dev/problems/${c.type}` });
      // Nothing of what was sent comes back.
      expect(r.body).not.toContain('aaaa');
    }
  });
});

describe('a path the router cannot read', () => {
  it('is answered with a problem document that does not repeat the path (it may hold a subject id)', async () => {
    for (const [path, status, type] of [
      [`${t.P}/subjects/visitor%3Ajane%E0%A4%A/report`, 400, 'malformed-path'],
      [`${t.P}/subjects/visitor%3Ajane${'x'.repeat(600)}/report`, 414, 'path-too-long'],
    ] as const) {
      const r = await t.dpo('GET', path);
      expect(r.status).toBe(status);
      expect(r.type).toMatch(/^application\/problem\+json/);
      expect(r.json).toMatchObject({ status, type: `https://pdl.dev/problems/${type}` });
      expect(r.text).not.toMatch(/jane|visitor/);
    }
    // The server goes on answering, and counts them.
    expect((await client(ledger.base)('GET', '/health')).status).toBe(200);
  });
});

describe('a method a route does not take', () => {
  it('is answered 405 naming the methods it takes, and a path no route serves 404', async () => {
    const ask = (method: string, path: string) => rawExchange(`${method} ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${t.tokens.dpo}\r\nconnection: close\r\n\r\n`);
    // HEAD is none of a data route's methods: asked so, a report was decrypted and recorded as read though nothing was sent.
    const accessLog = async () => (await t.dpo('GET', `${t.P}/access-log?limit=1000`)).json.items.length;
    const readsBefore = await accessLog();
    for (const [method, path, allow] of [['DELETE', `${t.P}/events?limit=1`, 'GET, POST'], ['PUT', '/health', 'GET, HEAD'], ['POST', `${t.P}/purposes/p-1`, 'GET, PUT'],
      ['HEAD', `${t.P}/subjects/visitor%3Aa/report`, 'GET'], ['HEAD', `${t.P}/events?limit=1`, 'GET, POST']] as const) {
      const r = await ask(method, path);
      expect(r.status).toBe(405);
      expect(r.head).toMatch(new RegExp(`^allow: ${allow}$`, 'im'));
      expect(r.head).toMatch(/content-type: application\/problem\+json/i);
      if (method !== 'HEAD') expect(JSON.parse(r.body)).toMatchObject({ status: 405, type: 'https://pdl.dev/problems/method-not-allowed', allow: allow.split(', ') });
    }
    expect(await accessLog()).toBe(readsBefore);
    expect((await ask('HEAD', '/health')).status).toBe(200);
    const missing = await ask('DELETE', `${t.P}/no-such-thing`);
    expect(missing.status).toBe(404);
    expect(missing.head).not.toMatch(/^allow:/im);
  });
});

describe('operability', () => {
  it('serves health, Prometheus metrics and an OpenAPI document listing every route', async () => {
    expect((await client(ledger.base)('GET', '/health')).json).toEqual({ status: 'ok' });
    const metrics = await client(ledger.base)('GET', '/metrics');
    expect(metrics.text).toMatch(/pdl_events_recorded_total \d+/);
    // The storage worker's heap is its own, apart from the main thread's default heap metrics.
    expect(Number(/^pdl_storage_worker_heap_used_bytes (\d+)/m.exec(metrics.text)?.[1])).toBeGreaterThan(1_000_000);
    expect(metrics.text).toContain('pdl_append_latency_seconds_bucket');
    expect(metrics.text).toContain('pdl_commit_batch_events_bucket');
    const docs = (await client(ledger.base)('GET', '/docs')).json;
    expect(docs.openapi).toBe('3.1.0');
    expect(Object.keys(docs.paths).sort()).toEqual(Object.keys(ROUTES).sort());
  });

  it('counts findings raised by code, and HTTP requests by route pattern and status, with no subject in the metrics', async () => {
    const value = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}."/:]/g, (c) => `\\${c}`)} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    const undeclared = 'pdl_findings_raised_total{code="purpose-undeclared",severity="high"}';
    const appended = 'pdl_http_requests_total{method="POST",route="/v1/tenants/:tenant/events",status="200"}';
    const refused = 'pdl_http_requests_total{method="GET",route="/v1/tenants/:tenant/events",status="400"}';
    const before = (await client(ledger.base)('GET', '/metrics')).text;
    const odd = anEvent({ purpose: 'never-declared', subject: { id: 'visitor:metrics-check' } });
    expect((await t.emitter('POST', `${t.P}/events`, { events: [odd, anEvent()] })).status).toBe(200);
    // The same event again: a duplicate, whose findings were counted when it was recorded.
    expect((await t.emitter('POST', `${t.P}/events`, { events: [odd] })).json.results[0].status).toBe('duplicate');
    expect((await t.dpo('GET', `${t.P}/events?subject=visitor:metrics-check&limit=0`)).status).toBe(400);
    const after = (await client(ledger.base)('GET', '/metrics')).text;
    expect(value(after, undeclared) - value(before, undeclared)).toBe(1);
    expect(value(after, appended) - value(before, appended)).toBe(2);
    expect(value(after, refused) - value(before, refused)).toBe(1);
    expect(after).toContain('pdl_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/v1/tenants/:tenant/events"}');
    expect(after).not.toContain('metrics-check');
  });

  it('writes JSON logs without identifiers or subject ids', async () => {
    await t.emitter('POST', `${t.P}/events`, { events: [anEvent({ subject: { id: 'visitor:log-check', identifiers: { email: 'log-check@example.org' } } })] });
    await t.dpo('GET', `${t.P}/events?subject=visitor:log-check`);
    await t.emitter('POST', `${t.P}/events`, { events: [] });
    const lines = ledger.output().split('\n').filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(5);
    const requests = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request' && l.route === '/v1/tenants/:tenant/events');
    // Answered well: at debug (this ledger logs at debug); refused: at info, shown by default.
    expect(requests.some((l) => l.status === 200 && l.level === 20)).toBe(true);
    expect(requests.some((l) => l.status === 400 && l.level === 30)).toBe(true);
    expect(ledger.output()).not.toContain('log-check');
  });
});
