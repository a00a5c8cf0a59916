import { Readable } from 'node:stream';
import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, StreamableFile } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import { ExportEvents, ListEvents } from '../../audit-trail/application/list-events.js';
import { RecordEvents } from '../../ingestion/application/record-events.js';
import { decodeAppendBody, ProcessingTypeCodec } from '../../ledger/domain/processing-event.js';
import { boundedString, oneOf, struct } from '../../common/kernel/codec.js';
import { CategoryKey, Slug } from '../../common/kernel/ids.js';
import { Instant, sortableInstant } from '../../common/kernel/time.js';
import { LedgerMetrics } from '../../operability/metrics.js';
import { Access, orProblem } from './access.js';
import { invalid } from './problem.js';
import { CursorParam, decodeQuery, LimitParam } from './query-params.js';

const TrailQuery = struct('query parameters', {}, {
  subject: boundedString('a subject id', 256), purpose: Slug, category: CategoryKey, recipient: Slug, system: Slug,
  type: ProcessingTypeCodec, from: Instant, to: Instant, limit: LimitParam, cursor: CursorParam, format: oneOf('a format', ['json', 'ndjson'] as const),
});

@Controller('v1/tenants/:tenant/events')
export class EventsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus, private readonly access: Access, private readonly metrics: LedgerMetrics) {}

  /** Records a batch of 1–1000 events: all or nothing, durable before the answer. */
  @Post()
  @HttpCode(200)
  async append(@Param('tenant') tenant: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    const by = await this.access.require(req, tenant, 'append-events');
    const events = decodeAppendBody(body);
    if (events._tag === 'Left') throw invalid(events.left);
    this.metrics.appendRequestSize.observe(events.right.length);
    return { results: orProblem(await this.commands.execute(new RecordEvents(tenant, events.right, by))) };
  }

  /**
   * The audit trail, in log order; identifiers are opened only for dpo and legal (and that read is
   * recorded). `?format=ndjson` streams everything after the cursor, one item per line.
   */
  @Get()
  async list(@Param('tenant') tenant: string, @Query() query: unknown, @Req() req: FastifyRequest) {
    const by = await this.access.require(req, tenant, 'read-audit-trail');
    const { limit, cursor, from, to, format, ...rest } = decodeQuery(TrailQuery, query);
    const filter = { ...rest, ...(from ? { from: sortableInstant(from) } : {}), ...(to ? { to: sortableInstant(to) } : {}) };
    if (format === 'ndjson') {
      const lines = await this.queries.execute(new ExportEvents(tenant, filter, cursor ?? -1, by));
      return new StreamableFile(Readable.from(lines), { type: 'application/x-ndjson', disposition: `attachment; filename="${tenant}-events.ndjson"` });
    }
    return orProblem(await this.queries.execute(new ListEvents(tenant, filter, cursor ?? -1, limit ?? 100, by)));
  }
}
