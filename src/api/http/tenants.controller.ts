import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Inject } from '@nestjs/common';
import { IssueToken } from '../../tenancy/application/issue-token.js';
import { PutTenant } from '../../tenancy/application/put-tenant.js';
import { RevokeToken } from '../../tenancy/application/revoke-token.js';
import { TokenRequest } from '../../tenancy/domain/roles.js';
import { TenantBody } from '../../tenancy/domain/tenant.js';
import { TENANT_DIRECTORY, type TenantDirectory } from '../../tenancy/tenant-directory.port.js';
import { Access, orProblem } from './access.js';
import { problem } from './problem.js';
import { pageAfterKey } from '../../common/kernel/paging.js';
import { decodeBody, decodeQuery, KeyPageQuery } from './query-params.js';

@Controller('v1/tenants')
export class TenantsController {
  constructor(private readonly commands: CommandBus, private readonly access: Access, @Inject(TENANT_DIRECTORY) private readonly directory: TenantDirectory) {}

  /** Every tenant by id, a page at a time (the bootstrap admin only): what an operator of a shared ledger needs to see first. */
  @Get()
  async list(@Query() query: unknown, @Req() req: FastifyRequest) {
    if ((await this.access.principal(req)).kind !== 'root') throw problem(403, 'forbidden', 'Forbidden', 'Only the bootstrap admin may list the tenants.');
    const { limit, cursor } = decodeQuery(KeyPageQuery, query);
    const ids = pageAfterKey(await this.directory.tenantIds(), (id) => [id], cursor ?? null, limit ?? 100);
    return { items: await Promise.all(ids.items.map(async (id) => ({ id, ...(await this.directory.tenant(id)) }))), nextCursor: ids.nextCursor };
  }

  @Put(':tenant')
  async put(@Param('tenant') tenant: string, @Body() body: unknown, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const by = await this.access.require(req, tenant, 'manage-tenants', false);
    const r = orProblem(await this.commands.execute(new PutTenant(tenant, decodeBody(TenantBody, body), by)));
    void reply.status(r.created ? 201 : 200);
    return r.tenant;
  }

  @Get(':tenant')
  async get(@Param('tenant') tenant: string, @Req() req: FastifyRequest) {
    await this.access.require(req, tenant, 'read-declarations');
    return this.directory.tenant(tenant);
  }

  @Post(':tenant/tokens')
  async issue(@Param('tenant') tenant: string, @Body() body: unknown, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const by = await this.access.require(req, tenant, 'manage-tokens');
    const issued = orProblem(await this.commands.execute(new IssueToken(tenant, decodeBody(TokenRequest, body), by)));
    void reply.status(201);
    return issued;
  }

  /** The tenant's tokens in the order issued, a page at a time. */
  @Get(':tenant/tokens')
  async tokens(@Param('tenant') tenant: string, @Query() query: unknown, @Req() req: FastifyRequest) {
    await this.access.require(req, tenant, 'manage-tokens');
    const { limit, cursor } = decodeQuery(KeyPageQuery, query);
    return pageAfterKey(await this.directory.tokens(tenant), (t) => [t.issuedAt, t.id], cursor ?? null, limit ?? 100);
  }

  @Delete(':tenant/tokens/:id')
  @HttpCode(204)
  async revoke(@Param('tenant') tenant: string, @Param('id') id: string, @Req() req: FastifyRequest) {
    const by = await this.access.require(req, tenant, 'manage-tokens');
    if (id.length > 64) throw problem(404, 'unknown-token', 'Unknown token', 'There is no such token in this tenant.');
    orProblem(await this.commands.execute(new RevokeToken(tenant, id, by)));
  }
}
