import fc from 'fast-check';
import { ROUTES } from '../../src/api/http/openapi.js';
import { aRunningTenant } from '../support/builders.js';
import { client } from '../support/ledger-process.js';

/**
 * Every GET route the API serves, with arbitrary text in its path parameters and its query (the
 * parameters it knows and others, once or repeated, valid-looking or not): never a 5xx, and every
 * refusal a problem document. Reads are what auditors' and legal teams' tools send by hand.
 */
const fixture = aRunningTenant();
const isProblem = (r: { type: string; json: any; status: number }) => r.type.startsWith('application/problem+json') && r.json?.status === r.status;

const GETS = Object.entries(ROUTES).filter(([, ops]) => ops.get).map(([path, ops]) => ({ path, query: ops.get!.query ?? [] }));

/** Text a parameter may get: plain, ISO-looking instants, numbers, cursors of other lists, hostile or broken escapes. */
const value = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.date({ min: new Date(-1e14), max: new Date(1e14), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer().map(String),
  fc.constantFrom('', '-1', '0', '1000', '1001', '1e3', 'NaN', 'null', 'true', '[]', '{}', '%', '%zz', '%E0%A4%A', '..', '../..', 'a'.repeat(5000),
    'cDE', 'cDEyMzQ1Njc4OTAxMjM0NTY3', 'a1siYSJd', 'json', 'ndjson', 'html', 'csv', 'open', 'overdue', 'completed', 'processor', 'visitor:b', 'email:b@example.org'),
);
/** Encoded as a client would, or (sometimes) left raw: the server must refuse broken escapes itself. */
const encoded = fc.tuple(value, fc.boolean()).map(([v, raw]) => (raw && /^[\x21-\x7e]*$/.test(v) && !/[#?&/]/.test(v) ? v : encodeURIComponent(v)));

const WRITES = Object.entries(ROUTES).flatMap(([path, ops]) => Object.keys(ops).filter((m) => m !== 'get').map((method) => ({ path, method: method.toUpperCase() })));

describe('every route under fuzzing', () => {
  it('never answers 5xx to arbitrary path and query parameters, and refuses with problem documents', async () => {
    const { ledger, t } = fixture;
    const callers = { dpo: t.dpo, auditor: t.auditor, legal: t.legal, root: client(ledger.base, ledger.adminToken) };
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...GETS), fc.constantFrom(...(Object.keys(callers) as Array<keyof typeof callers>)), fc.boolean(), fc.array(encoded, { minLength: 3, maxLength: 3 }),
      fc.array(fc.tuple(fc.oneof(fc.constantFrom('limit', 'cursor', 'asOf', 'at', 'from', 'to', 'format', 'subject', 'identifier', 'status', 'type', 'x'), fc.string({ maxLength: 8 })), encoded), { maxLength: 5 }),
      async (route, who, ownTenant, params, query) => {
        let i = 0;
        const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'tenant' && ownTenant ? t.P.split('/')[3]! : params[i++ % params.length]!));
        // The route's own parameters first, so that most requests get past the first one.
        const named = route.query.map((q, k) => [q, query[k]?.[1] ?? ''] as const).slice(0, query.length);
        const qs = [...named, ...query].map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&');
        const r = await callers[who]('GET', `${path}${qs ? `?${qs}` : ''}`);
        if (r.status >= 500 || (r.status >= 400 && !isProblem(r))) throw new Error(`GET ${route.path} as ${who}: ${r.status} ${r.text.slice(0, 200)}`);
      }), { numRuns: 600 });
  });

  it('every other route too: arbitrary path parameters and JSON bodies, never a 5xx', async () => {
    const { ledger, t } = fixture;
    const callers = { admin: t.admin, dpo: t.dpo, legal: t.legal, emitter: t.emitter, root: client(ledger.base, ledger.adminToken) };
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...WRITES), fc.constantFrom(...(Object.keys(callers) as Array<keyof typeof callers>)), fc.boolean(), fc.array(encoded, { minLength: 3, maxLength: 3 }),
      fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom('name', 'role', 'reason', 'outcome', 'decision', 'rationale', 'authority', 'subjects', 'type', 'subject', 'kind', 'due', 'legalBasis', 'categories', 'x'), fc.jsonValue())),
      async (route, who, ownTenant, params, body) => {
        let i = 0;
        // Another tenant than the reference one gets a fixed prefix: the fuzz must not declare the tenant it reads.
        const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'tenant' ? (ownTenant ? t.P.split('/')[3]! : `fz-${params[0]!.slice(0, 20)}`) : params[i++ % params.length]!));
        const r = await callers[who](route.method, path, body ?? null);
        if (r.status >= 500 || (r.status >= 400 && !isProblem(r))) throw new Error(`${route.method} ${route.path} as ${who}: ${r.status} ${r.text.slice(0, 200)}`);
      }), { numRuns: 400 });
  });
});
