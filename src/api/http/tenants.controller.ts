import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Req, Res } from '@nestjs/common';
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
import { decodeBody } from './query-params.js';

@Controller('v1/tenants')
export class TenantsController {
  constructor(private readonly commands: CommandBus, private readonly access: Access, @Inject(TENANT_DIRECTORY) private readonly directory: TenantDirectory) {}

  /** Every tenant (the bootstrap admin only): what an operator of a shared ledger needs to see first. */
  @Get()
  async list(@Req() req: FastifyRequest) {
    if ((await this.access.principal(req)).kind !== 'root') throw problem(403, 'forbidden', 'Forbidden', 'Only the bootstrap admin may list the tenants.');
    const ids = (await this.directory.tenantIds()).sort();
    const items = await Promise.all(ids.map(async (id) => ({ id, ...(await this.directory.tenant(id)) })));
    return { items, nextCursor: null };
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

  @Get(':tenant/tokens')
  async tokens(@Param('tenant') tenant: string, @Req() req: FastifyRequest) {
    await this.access.require(req, tenant, 'manage-tokens');
    return { items: await this.directory.tokens(tenant), nextCursor: null };
  }

  @Delete(':tenant/tokens/:id')
  @HttpCode(204)
  async revoke(@Param('tenant') tenant: string, @Param('id') id: string, @Req() req: FastifyRequest) {
    const by = await this.access.require(req, tenant, 'manage-tokens');
    if (id.length > 64) throw problem(404, 'unknown-token', 'Unknown token', 'There is no such token in this tenant.');
    orProblem(await this.commands.execute(new RevokeToken(tenant, id, by)));
  }
}
