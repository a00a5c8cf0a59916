import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Either } from 'fp-ts/lib/Either.js';
import { Authenticator } from '../../tenancy/application/authenticator.js';
import { denial, type Permission, type Principal } from '../../tenancy/domain/roles.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import { TenantId } from '../../tenancy/domain/tenant.js';
import { problem, problemOf } from './problem.js';

/** Authentication and authorisation of one HTTP request, in the order API.md gives: 401, 403/404, 403. */
@Injectable()
export class Access {
  constructor(private readonly auth: Authenticator) {}

  async principal(req: FastifyRequest): Promise<Principal> {
    const p = await this.auth.principal(req.headers.authorization);
    if (!p) throw problem(401, 'unauthenticated', 'Authentication required', 'Send a valid token as "Authorization: Bearer <token>".');
    return p;
  }

  /** The caller, allowed to do `permission` in `tenant`; `mustExist: false` for creating a tenant. */
  async require(req: FastifyRequest, tenant: string, permission: Permission, mustExist = true): Promise<Principal> {
    const p = await this.principal(req);
    const unknown = () => problem(404, 'unknown-tenant', 'Unknown tenant', 'There is no such tenant.');
    if (p.kind === 'token' && p.tenant !== tenant) throw problem(403, 'wrong-tenant', 'Forbidden', 'This token belongs to another tenant.');
    if (!TenantId.is(tenant)) throw mustExist ? unknown() : problem(400, 'invalid-tenant-id', 'Invalid tenant id', 'A tenant id is lowercase letters, digits and "-", at most 64 characters.');
    // A live token of this tenant proves it exists (tenants are never removed): only the bootstrap admin's
    // requests read the tenant (one query less per request where nothing is cached).
    if (mustExist && p.kind !== 'token' && !(await this.auth.tenantExists(tenant))) throw unknown();
    const d = denial(p, tenant, permission);
    if (d) throw problem(403, 'forbidden', 'Forbidden', d._tag === 'WrongTenant' ? 'This token belongs to another tenant.' : `The ${d.role} role may not ${d.permission.replace(/-/g, ' ')}.`);
    return p;
  }
}

/** The value of a successful command, or its domain error as a problem. */
export function orProblem<A>(r: Either<DomainError, A>): A {
  if (r._tag === 'Left') throw problemOf(r.left);
  return r.right;
}
