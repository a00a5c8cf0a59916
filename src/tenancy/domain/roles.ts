import * as t from 'io-ts';
import { boundedArray, boundedString, struct, oneOf } from '../../common/kernel/codec.js';
import { Slug } from '../../common/kernel/ids.js';

export const ROLES = ['admin', 'dpo', 'legal', 'auditor', 'emitter'] as const;
export type Role = (typeof ROLES)[number];

export const TokenRequest = struct('a token request', { role: oneOf('a role', ROLES) }, {
  systems: boundedArray(Slug, 1, 256, 'systems'),
  label: boundedString('a label', 128),
});
export type TokenRequest = t.TypeOf<typeof TokenRequest>;

/** Who is calling: the bootstrap admin (every tenant) or a tenant token with one role. */
export type Principal =
  | { readonly kind: 'root' }
  | { readonly kind: 'token'; readonly tokenId: string; readonly tenant: string; readonly role: Role; readonly systems: readonly string[] | null };

/** What a route needs; checked by one pure function so the policy reads in one place. */
export type Permission =
  | 'manage-tenants'
  | 'manage-tokens'
  | 'write-declarations'
  | 'read-declarations'
  | 'append-events'
  | 'read-audit-trail'
  | 'read-identifiers'
  | 'read-proofs'
  | 'read-findings'
  | 'manage-subject-requests'
  | 'manage-authority-requests'
  | 'ask-decisions'
  | 'read-reports'
  | 'read-ropa'
  | 'read-disclosures'
  | 'read-access-log'
  | 'read-erasure';

const GRANTS: Record<Role, readonly Permission[]> = {
  admin: ['manage-tokens', 'write-declarations', 'read-declarations', 'read-audit-trail', 'read-proofs'],
  dpo: ['write-declarations', 'read-declarations', 'append-events', 'read-audit-trail', 'read-identifiers', 'read-proofs', 'read-findings', 'manage-subject-requests', 'manage-authority-requests', 'ask-decisions',
    'read-reports', 'read-ropa', 'read-disclosures', 'read-access-log', 'read-erasure'],
  legal: ['read-declarations', 'read-audit-trail', 'read-identifiers', 'read-proofs', 'manage-authority-requests', 'read-reports', 'read-ropa', 'read-disclosures', 'read-erasure'],
  auditor: ['read-declarations', 'read-audit-trail', 'read-proofs', 'read-findings', 'read-ropa', 'read-disclosures', 'read-access-log', 'read-erasure'],
  emitter: ['append-events', 'read-proofs', 'ask-decisions'],
};

export type AccessDenied = { readonly _tag: 'WrongTenant' } | { readonly _tag: 'MissingPermission'; readonly permission: Permission; readonly role: Role };

/** Decides whether `principal` may do `permission` in `tenant`; `null` means allowed. */
export function denial(principal: Principal, tenant: string | null, permission: Permission): AccessDenied | null {
  if (principal.kind === 'root') return permission === 'manage-tenants' || GRANTS.admin.includes(permission) ? null : { _tag: 'MissingPermission', permission, role: 'admin' };
  if (permission === 'manage-tenants') return { _tag: 'MissingPermission', permission, role: principal.role };
  if (tenant !== null && principal.tenant !== tenant) return { _tag: 'WrongTenant' };
  return GRANTS[principal.role].includes(permission) ? null : { _tag: 'MissingPermission', permission, role: principal.role };
}

export const canReadIdentifiers = (p: Principal): boolean => p.kind === 'token' && GRANTS[p.role].includes('read-identifiers');
