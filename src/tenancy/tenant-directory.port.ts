import type { Role } from './domain/roles.js';
import type { TenantSettings } from './domain/tenant.js';

export interface TokenRecord {
  readonly id: string;
  readonly tenant: string;
  readonly role: Role;
  readonly systems: readonly string[] | null;
  readonly label: string | null;
  readonly issuedAt: string;
  readonly revokedAt: string | null;
}

/** Read side of tenancy: who the tenants are and which token hash belongs to whom. */
export interface TenantDirectory {
  tenant(id: string): Promise<TenantSettings | null>;
  tenantIds(): Promise<string[]>;
  tokenByHash(hash: string): Promise<TokenRecord | null>;
  token(tenant: string, id: string): Promise<TokenRecord | null>;
  tokens(tenant: string): Promise<TokenRecord[]>;
}
export const TENANT_DIRECTORY = Symbol('TenantDirectory');
