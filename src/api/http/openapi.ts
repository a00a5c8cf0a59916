import { DECLARATION_KINDS } from '../../declarations/domain/declaration.js';
import { DETAILS, EventFields, PROCESSING_TYPES } from '../../ledger/domain/processing-event.js';
import { jsonSchemaOf } from '../../common/kernel/codec.js';
import { TokenRequest } from '../../tenancy/domain/roles.js';
import { TenantBody } from '../../tenancy/domain/tenant.js';
import { DecisionBody } from '../../decisions/domain/decision.js';
import { AuthorityRequestBody, CompleteBody, DecideBody, ExtendBody, SubjectRequestBody } from '../../requests/domain/requests.js';

type Op = { summary: string; roles: string; body?: unknown; ok: number; query?: string[]; noAuth?: boolean };
const T = '/v1/tenants/{tenant}';

/** Every route the HTTP API serves; a test checks this list against the routes actually registered. */
export const ROUTES: Record<string, Record<string, Op>> = {
  '/health': { get: { summary: 'Health of the ledger and its store', roles: 'none', ok: 200, noAuth: true } },
  '/metrics': { get: { summary: 'Prometheus metrics', roles: 'none', ok: 200, noAuth: true } },
  '/docs': { get: { summary: 'This OpenAPI document', roles: 'none', ok: 200, noAuth: true } },
  '/v1/tenants': { get: { summary: 'Every tenant, with its name and residency, by id', roles: 'bootstrap admin', ok: 200, query: ['limit', 'cursor'] } },
  [T]: {
    put: { summary: 'Create or update a tenant', roles: 'bootstrap admin', body: jsonSchemaOf(TenantBody), ok: 200 },
    get: { summary: 'A tenant and its residency', roles: 'admin, dpo, legal, auditor', ok: 200 },
  },
  [`${T}/tokens`]: {
    post: { summary: 'Issue a token (shown once, stored hashed)', roles: 'admin', body: jsonSchemaOf(TokenRequest), ok: 201 },
    get: { summary: 'List tokens in the order issued (never their secrets)', roles: 'admin', ok: 200, query: ['limit', 'cursor'] },
  },
  [`${T}/tokens/{id}`]: { delete: { summary: 'Revoke a token at once', roles: 'admin', ok: 204 } },
  ...Object.fromEntries(Object.entries(DECLARATION_KINDS).flatMap(([kind, { codec }]) => [
    [`${T}/${kind}`, { get: { summary: `Current ${kind} (or as of a moment), by id`, roles: 'admin, dpo, legal, auditor', ok: 200, query: ['asOf', 'limit', 'cursor'] } }],
    [`${T}/${kind}/{id}`, {
      put: { summary: `Declare a new version of one of the ${kind}`, roles: 'admin, dpo', body: jsonSchemaOf(codec), ok: 200 },
      get: { summary: `One of the ${kind}, current or as of a moment`, roles: 'admin, dpo, legal, auditor', ok: 200, query: ['asOf'] },
    }],
  ])),
  [`${T}/events`]: {
    post: {
      summary: 'Record 1 to 1000 processing events, atomically and durably', roles: 'emitter, dpo', ok: 200,
      body: {
        type: 'object', required: ['events'], additionalProperties: false,
        properties: { events: { type: 'array', minItems: 1, maxItems: 1000, items: jsonSchemaOf(EventFields) } },
        description: `details by type: ${PROCESSING_TYPES.map((t) => `${t}: ${JSON.stringify((jsonSchemaOf(DETAILS[t]) as { properties?: object }).properties ?? {})}`).join('; ')}`,
      },
    },
    get: {
      summary: 'Audit trail in log order (format=ndjson streams everything after the cursor); identifiers opened for dpo and legal, and that read recorded',
      roles: 'admin, dpo, legal, auditor', ok: 200,
      query: ['subject', 'purpose', 'category', 'recipient', 'system', 'type', 'from', 'to', 'limit', 'cursor', 'format'],
    },
  },
  [`${T}/checkpoints/latest`]: { get: { summary: 'The latest signed checkpoint (C2SP signed note), covering every committed entry', roles: 'every role', ok: 200 } },
  [`${T}/checkpoints/consistency`]: { get: { summary: 'RFC 9162 consistency proof between two tree sizes', roles: 'every role', ok: 200, query: ['from', 'to'] } },
  [`${T}/events/{eventId}/proof`]: { get: { summary: 'RFC 9162 inclusion proof of an event in the tree of treeSize entries', roles: 'every role', ok: 200, query: ['treeSize'] } },
  [`${T}/log/export`]: { get: { summary: 'The log as NDJSON: per entry, exactly the bytes that were hashed', roles: 'every role', ok: 200, query: ['from', 'to'] } },
  [`${T}/findings`]: { get: { summary: 'Findings: what broke the declared policy, raised when events were recorded', roles: 'dpo, auditor', ok: 200, query: ['code', 'severity', 'subject', 'from', 'to', 'at', 'limit', 'cursor'] } },
  [`${T}/retention`]: { get: { summary: 'What is held at a moment (default now), until when: held, due-soon or overdue', roles: 'dpo, auditor', ok: 200, query: ['at', 'status', 'subject', 'limit', 'cursor'] } },
  [`${T}/subjects`]: { get: { summary: 'Subjects whose identifier matches kind:value (e.g. ip:203.0.113.7), through the blind index', roles: 'dpo, legal', ok: 200, query: ['identifier'] } },
  [`${T}/decisions`]: { post: { summary: 'Decision point: the findings a proposed action would raise (allowed when none); the decision is recorded', roles: 'emitter, dpo', body: jsonSchemaOf(DecisionBody), ok: 200 } },
  [`${T}/subject-requests`]: {
    post: { summary: 'Record a subject request (due one calendar month after receipt)', roles: 'dpo', body: jsonSchemaOf(SubjectRequestBody), ok: 201 },
    get: { summary: 'Subject requests open, overdue or completed at a moment', roles: 'dpo', ok: 200, query: ['status', 'at', 'limit', 'cursor'] },
  },
  [`${T}/subject-requests/{id}`]: { get: { summary: 'A subject request (for an erasure: where the data stands per system)', roles: 'dpo', ok: 200, query: ['at'] } },
  [`${T}/subject-requests/{id}/extend`]: { post: { summary: 'Extend a subject request by two months, once', roles: 'dpo', body: jsonSchemaOf(ExtendBody), ok: 200 } },
  [`${T}/subject-requests/{id}/complete`]: { post: { summary: 'Complete a subject request (an erasure only once no system is pending)', roles: 'dpo', body: jsonSchemaOf(CompleteBody), ok: 200 } },
  [`${T}/authority-requests`]: {
    post: { summary: 'Record a request from a declared public authority', roles: 'legal, dpo', body: jsonSchemaOf(AuthorityRequestBody), ok: 201 },
    get: { summary: 'Authority requests', roles: 'legal, dpo', ok: 200, query: ['limit', 'cursor'] },
  },
  [`${T}/authority-requests/{id}`]: { get: { summary: 'An authority request, with the disclosures made under it and what it covers: per subject named, where its data is held now (with any legal hold), the systems it was erased from, and what authorities received of it before', roles: 'legal, dpo', ok: 200 } },
  [`${T}/subjects/{subject}/report`]: { get: { summary: 'The Art. 15 report of a subject (format=html: a page for the person); the read is recorded', roles: 'dpo, legal', ok: 200, query: ['format', 'asOf', 'request'] } },
  [`${T}/subjects/{subject}/erasure`]: { get: { summary: 'Erasure certificate: keys destroyed (when, why, the log entry saying so), keys kept under a legal hold (until when, on which basis), systems', roles: 'dpo, legal, auditor', ok: 200 } },
  [`${T}/ropa`]: { get: { summary: 'Records of processing (Art. 30) per purpose, declared and observed, with what was observed but never declared (format=csv, or html for a page to print)', roles: 'dpo, legal, auditor', ok: 200, query: ['format', 'asOf'] } },
  [`${T}/disclosures`]: { get: { summary: 'Disclosure register: what went to which recipient, with its authority request', roles: 'dpo, legal, auditor', ok: 200, query: ['recipient', 'recipientKind', 'from', 'to', 'limit', 'cursor'] } },
  [`${T}/access-log`]: { get: { summary: 'Who read which subject\'s data through the ledger, when, and what', roles: 'dpo, auditor', ok: 200, query: ['subject', 'from', 'to', 'limit', 'cursor'] } },
  [`${T}/authority-requests/{id}/decide`]: { post: { summary: 'Decide to comply or refuse, with a rationale', roles: 'legal, dpo', body: jsonSchemaOf(DecideBody), ok: 200 } },
  [`${T}/authority-requests/{id}/close`]: { post: { summary: 'Close an authority request', roles: 'legal, dpo', ok: 200 } },
  [`${T}/authority-requests/{id}/unseal`]: { post: { summary: 'Lift the seal of an authority request', roles: 'legal, dpo', ok: 200 } },
  '/v1/keys': { get: { summary: 'Public checkpoint-signing keys, current and retired', roles: 'none', ok: 200, noAuth: true } },
  '/v1/keys/rotate': { post: { summary: 'Rotate the checkpoint-signing key', roles: 'bootstrap admin', ok: 201 } },
};

const problem = { description: 'Problem (RFC 9457)', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };

export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, ops] of Object.entries(ROUTES)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(ops)) {
      const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
      for (const q of op.query ?? []) params.push({ name: q, in: 'query', required: false, schema: { type: 'string' } });
      paths[path]![method] = {
        summary: op.summary,
        description: `Roles: ${op.roles}.`,
        ...(op.noAuth ? { security: [] } : {}),
        ...(params.length ? { parameters: params } : {}),
        ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: op.body } } } } : {}),
        responses: {
          [String(op.ok)]: { description: 'Success' },
          ...(op.noAuth ? {} : { 400: problem, 401: problem, 403: problem, 404: problem }),
        },
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'pdl — Personal Data Ledger', version: '0.1.0', description: 'Records every processing action on personal data, immutably.' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Problem: {
          type: 'object', required: ['type', 'title', 'status', 'detail'],
          properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' },
            errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } } },
        },
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
