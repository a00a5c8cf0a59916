import { randomUUID } from 'node:crypto';
import { ROUTES } from '../../src/api/http/openapi.js';
import { aRunningTenant } from '../support/builders.js';
import { client } from '../support/ledger-process.js';

/**
 * Every route, every role of the tenant: refused (403) exactly when the route's documented roles do not
 * include the role, never a 5xx. The documentation (`/docs`) and the policy therefore say the same.
 */
const ROLES = ['admin', 'dpo', 'legal', 'auditor', 'emitter'] as const;
const allowed = (roles: string): Set<string> => {
  if (roles === 'every role') return new Set(ROLES);
  if (roles === 'bootstrap admin') return new Set();
  return new Set(roles.split(',').map((r) => r.trim()));
};

const running = aRunningTenant();

describe('the role of every route', () => {
  const cases = Object.entries(ROUTES).flatMap(([path, ops]) => Object.entries(ops).filter(([, op]) => !op.noAuth).map(([method, op]) => ({ path, method, roles: op.roles })));

  it.each(cases)('$method $path ($roles)', async ({ path, method, roles }) => {
    const ok = allowed(roles);
    const concrete = path.replace('{tenant}', running.t.P.split('/').pop()!).replace('{subject}', 'visitor:b').replace(/\{(id|eventId)\}/g, () => randomUUID());
    for (const role of ROLES) {
      const r = await client(running.ledger.base, running.t.tokens[role]!)(method.toUpperCase(), concrete, ['post', 'put'].includes(method) ? {} : undefined);
      expect([role, r.status >= 500 ? r.status : 'no 5xx']).toEqual([role, 'no 5xx']);
      expect([role, r.status === 403]).toEqual([role, !ok.has(role)]);
    }
  });
});
