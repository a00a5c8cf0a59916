import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { Decide } from '../../decisions/application/decide.js';
import { DecisionBody } from '../../decisions/domain/decision.js';
import type { FastifyRequest } from 'fastify';
import { boundedString, oneOf, struct } from '../../common/kernel/codec.js';
import { Instant, sortableInstant } from '../../common/kernel/time.js';
import { ListFindings } from '../../compliance/application/list-findings.js';
import { ListRetention } from '../../compliance/application/list-retention.js';
import { FINDING_CODES, SEVERITIES } from '../../compliance/domain/finding.js';
import { Access, orProblem } from './access.js';
import { CursorParam, decodeBody, decodeQuery, LimitParam } from './query-params.js';

const FindingsQuery = struct('query parameters', {}, {
  code: oneOf('a finding code', FINDING_CODES), severity: oneOf('a severity', SEVERITIES), subject: boundedString('a subject id', 256),
  from: Instant, to: Instant, at: Instant, limit: LimitParam, cursor: CursorParam,
});

const RetentionQuery = struct('query parameters', {}, {
  at: Instant, status: oneOf('a retention status', ['held', 'due-soon', 'overdue'] as const), subject: boundedString('a subject id', 256),
  limit: LimitParam, cursor: CursorParam,
});

/** What broke the declared policy, in the order it was raised; what is held, until when. */
@Controller('v1/tenants/:tenant')
export class FindingsController {
  constructor(private readonly queries: QueryBus, private readonly commands: CommandBus, private readonly access: Access) {}

  /** Holdings in force at `at` (default: now) with their deadline and status. */
  @Get('retention')
  async retention(@Param('tenant') tenant: string, @Query() query: unknown, @Req() req: FastifyRequest) {
    await this.access.require(req, tenant, 'read-findings');
    const { at, limit, cursor, ...filter } = decodeQuery(RetentionQuery, query);
    return this.queries.execute(new ListRetention(tenant, sortableInstant(at ?? new Date()), filter, cursor ?? 0, limit ?? 100));
  }

  /** May this be done? The findings the action would raise; the decision itself is recorded. */
  @Post('decisions')
  @HttpCode(200)
  async decide(@Param('tenant') tenant: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    const by = await this.access.require(req, tenant, 'ask-decisions');
    return orProblem(await this.commands.execute(new Decide(tenant, decodeBody(DecisionBody, body), by)));
  }

  @Get('findings')
  async list(@Param('tenant') tenant: string, @Query() query: unknown, @Req() req: FastifyRequest) {
    await this.access.require(req, tenant, 'read-findings');
    const { limit, cursor, from, to, at, ...filter } = decodeQuery(FindingsQuery, query);
    return this.queries.execute(new ListFindings(tenant, {
      ...filter, ...(from ? { from: sortableInstant(from) } : {}), ...(to ? { to: sortableInstant(to) } : {}),
    }, cursor ?? 0, limit ?? 100, at ? sortableInstant(at) : undefined));
  }
}
