import { canReadIdentifiers, denial, type Principal } from '../../src/tenancy/domain/roles.js';
import { systemsOutsideToken } from '../../src/ingestion/domain/system-restriction.js';
import { anEvent } from '../support/builders.js';

const token = (role: Principal & { kind: 'token' } extends infer P ? P extends { role: infer R } ? R : never : never, systems: string[] | null = null): Principal =>
  ({ kind: 'token', tokenId: 't1', tenant: 'acme', role, systems });

describe('who may do what', () => {
  it('lets an emitter append but not read the audit trail', () => {
    expect(denial(token('emitter'), 'acme', 'append-events')).toBeNull();
    expect(denial(token('emitter'), 'acme', 'read-audit-trail')).toEqual({ _tag: 'MissingPermission', permission: 'read-audit-trail', role: 'emitter' });
  });
  it('keeps an auditor read-only and away from identifiers', () => {
    expect(denial(token('auditor'), 'acme', 'append-events')).not.toBeNull();
    expect(denial(token('auditor'), 'acme', 'read-audit-trail')).toBeNull();
    expect(canReadIdentifiers(token('auditor'))).toBe(false);
  });
  it('opens identifiers for dpo and legal only', () => {
    expect(canReadIdentifiers(token('dpo'))).toBe(true);
    expect(canReadIdentifiers(token('legal'))).toBe(true);
    expect(canReadIdentifiers({ kind: 'root' })).toBe(false);
  });
  it('refuses a token in another tenant', () => {
    expect(denial(token('dpo'), 'other', 'read-audit-trail')).toEqual({ _tag: 'WrongTenant' });
  });
  it('lets only the bootstrap admin manage tenants', () => {
    expect(denial({ kind: 'root' }, 'acme', 'manage-tenants')).toBeNull();
    expect(denial(token('admin'), 'acme', 'manage-tenants')).not.toBeNull();
  });
});

describe('an emitter token restricted to systems', () => {
  it('names the systems it may not report for', () => {
    const events = [anEvent({ system: 'core' }), anEvent({ system: 'plugins' })] as never[];
    expect(systemsOutsideToken(token('emitter', ['core']), events)).toEqual(['plugins']);
    expect(systemsOutsideToken(token('emitter'), events)).toEqual([]);
  });
});
