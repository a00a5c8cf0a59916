import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import { oneOf, struct } from '../../common/kernel/codec.js';
import { Instant, sortableInstant } from '../../common/kernel/time.js';
import {
  ChangeAuthorityRequest, CompleteSubjectRequest, ExtendSubjectRequest, GetAuthorityRequest, GetSubjectRequest, ListAuthorityRequests,
  ListSubjectRequests, ReceiveAuthorityRequest, ReceiveSubjectRequest,
} from '../../requests/application/requests.js';
import { AuthorityRequestBody, CompleteBody, DecideBody, ExtendBody, SubjectRequestBody } from '../../requests/domain/requests.js';
import { Access, orProblem } from './access.js';
import { CursorParam, decodeBody, decodePath, decodeQuery, IdParam, LimitParam } from './query-params.js';

const SubjectRequestsQuery = struct('query parameters', {}, { status: oneOf('a status', ['open', 'overdue', 'completed'] as const), at: Instant, limit: LimitParam, cursor: CursorParam });
const AtQuery = struct('query parameters', {}, { at: Instant });
const PageQuery = struct('query parameters', {}, { limit: LimitParam, cursor: CursorParam });

/** Subject requests (dpo) and authority requests (legal, dpo). */
@Controller('v1/tenants/:tenant')
export class RequestsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus, private readonly access: Access) {}

  @Post('subject-requests')
  @HttpCode(201)
  async receive(@Param('tenant') tenant: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    const by = await this.access.require(req, tenant, 'manage-subject-requests');
    return orProblem(await this.commands.execute(new ReceiveSubjectRequest(tenant, decodeBody(SubjectRequestBody, body), by)));
  }

  @Get('subject-requests')
  async list(@Param('tenant') tenant: string, @Query() query: unknown, @Req() req: FastifyRequest) {
    await this.access.require(req, tenant, 'manage-subject-requests');
    const { status, at, limit, cursor } = decodeQuery(SubjectRequestsQuery, query);
    return this.queries.execute(new ListSubjectRequests(tenant, sortableInstant(at ?? new Date()), status, cursor ?? -1, limit ?? 100));
  }

  @Get('subject-requests/:id')
  async one(@Param('tenant') tenant: string, @Param('id') id: string, @Query() query: unknown, @Req() req: FastifyRequest) {
    await this.access.require(req, tenant, 'manage-subject-requests');
    decodePath(IdParam, { id });
    const { at } = decodeQuery(AtQuery, query);
    return orProblem(await this.queries.execute(new GetSubjectRequest(tenant, id, sortableInstant(at ?? new Date()))));
  }

  @Post('subject-requests/:id/extend')
  @HttpCode(200)
  async extend(@Param('tenant') tenant: string, @Param('id') id: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    const by = await this.access.require(req, tenant, 'manage-subject-requests');
    decodePath(IdParam, { id });
    return orProblem(await this.commands.execute(new ExtendSubjectRequest(tenant, id, decodeBody(ExtendBody, body).reason, by)));
  }

  @Post('subject-requests/:id/complete')
  @HttpCode(200)
  async complete(@Param('tenant') tenant: string, @Param('id') id: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    const by = await this.access.require(req, tenant, 'manage-subject-requests');
    decodePath(IdParam, { id });
    const b = decodeBody(CompleteBody, body);
    return orProblem(await this.commands.execute(new CompleteSubjectRequest(tenant, id, b.outcome, b.reason, by)));
  }

  @Post('authority-requests')
  @HttpCode(201)
  async receiveAuthority(@Param('tenant') tenant: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    const by = await this.access.require(req, tenant, 'manage-authority-requests');
    return orProblem(await this.commands.execute(new ReceiveAuthorityRequest(tenant, decodeBody(AuthorityRequestBody, body), by)));
  }

  @Get('authority-requests')
  async listAuthority(@Param('tenant') tenant: string, @Query() query: unknown, @Req() req: FastifyRequest) {
    await this.access.require(req, tenant, 'manage-authority-requests');
    const { limit, cursor } = decodeQuery(PageQuery, query);
    return this.queries.execute(new ListAuthorityRequests(tenant, cursor ?? -1, limit ?? 100));
  }

  @Get('authority-requests/:id')
  async oneAuthority(@Param('tenant') tenant: string, @Param('id') id: string, @Req() req: FastifyRequest) {
    await this.access.require(req, tenant, 'manage-authority-requests');
    decodePath(IdParam, { id });
    return orProblem(await this.queries.execute(new GetAuthorityRequest(tenant, id)));
  }

  @Post('authority-requests/:id/decide')
  @HttpCode(200)
  async decide(@Param('tenant') tenant: string, @Param('id') id: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    const by = await this.access.require(req, tenant, 'manage-authority-requests');
    decodePath(IdParam, { id });
    return orProblem(await this.commands.execute(new ChangeAuthorityRequest(tenant, id, { decide: decodeBody(DecideBody, body) }, by)));
  }

  @Post('authority-requests/:id/close')
  @HttpCode(200)
  async close(@Param('tenant') tenant: string, @Param('id') id: string, @Req() req: FastifyRequest) {
    const by = await this.access.require(req, tenant, 'manage-authority-requests');
    decodePath(IdParam, { id });
    return orProblem(await this.commands.execute(new ChangeAuthorityRequest(tenant, id, 'close', by)));
  }

  @Post('authority-requests/:id/unseal')
  @HttpCode(200)
  async unseal(@Param('tenant') tenant: string, @Param('id') id: string, @Req() req: FastifyRequest) {
    const by = await this.access.require(req, tenant, 'manage-authority-requests');
    decodePath(IdParam, { id });
    return orProblem(await this.commands.execute(new ChangeAuthorityRequest(tenant, id, 'unseal', by)));
  }
}
