import { Controller, Get, Header, Param, Query, Req, StreamableFile } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import { boundedString, oneOf, struct } from '../../common/kernel/codec.js';
import { Slug, Uuid } from '../../common/kernel/ids.js';
import { Instant, sortableInstant } from '../../common/kernel/time.js';
import { GetSubjectReport } from '../../answers/application/subject-report.js';
import { GetRecordsOfProcessing, ListAccessLog, ListDisclosures } from '../../answers/application/answers.js';
import { reportHtmlParts } from '../../answers/domain/report-html.js';
import { ropaCsv } from '../../answers/domain/ropa.js';
import { ropaHtml } from '../../answers/domain/ropa-html.js';
import { Access, orProblem } from './access.js';
import { jsonBytes, utf8Bytes } from './json-bytes.js';
import { CursorParam, decodePath, decodeQuery, LimitParam, SubjectParam } from './query-params.js';

const ReportQuery = struct('query parameters', {}, { format: oneOf('a format', ['json', 'html'] as const), asOf: Instant, request: Uuid });
const RopaQuery = struct('query parameters', {}, { format: oneOf('a format', ['json', 'csv', 'html'] as const), asOf: Instant });
const DisclosuresQuery = struct('query parameters', {}, {
  recipient: Slug, recipientKind: oneOf('a recipient kind', ['processor', 'controller', 'public-authority'] as const), from: Instant, to: Instant, limit: LimitParam, cursor: CursorParam,
});
const AccessLogQuery = struct('query parameters', {}, { subject: boundedString('a subject id', 256), from: Instant, to: Instant, limit: LimitParam, cursor: CursorParam });

/**
 * On the answers a browser may render (the report's and the register's pages): no script, no remote
 * resource, no frame, whatever a value in them might hold (every value is escaped already: this is the
 * second wall), and no sniffing of another type than the one given.
 */
const PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const page = (body: string | Buffer, type: string, filename?: string) =>
  new StreamableFile(typeof body === 'string' ? Buffer.from(body, 'utf8') : body, { type, ...(filename ? { disposition: `attachment; filename="${filename}"` } : {}) });

/** What the ledger answers auditors, legal teams and data subjects. */
@Controller('v1/tenants/:tenant')
export class AnswersController {
  constructor(private readonly queries: QueryBus, private readonly access: Access) {}

  /** The Art. 15 report of one subject (dpo, legal); `?format=html` for a page to send the person. The read is recorded. */
  @Get('subjects/:subject/report')
  @Header('content-security-policy', PAGE_POLICY)
  @Header('x-content-type-options', 'nosniff')
  async report(@Param('tenant') tenant: string, @Param('subject') subject: string, @Query() query: unknown, @Req() req: FastifyRequest) {
    const by = await this.access.require(req, tenant, 'read-reports');
    decodePath(SubjectParam, { subject });
    const { format, asOf, request } = decodeQuery(ReportQuery, query);
    const report = orProblem(await this.queries.execute(new GetSubjectReport(tenant, subject, asOf, format ?? 'json', request, by)));
    // Serialised here into one buffer: for a large report (1,000 events, ~440 KB) measurably faster than the
    // framework's path for objects (bench/answers.js: p50 ~22 -> ~18 ms). Its history a slice at a time (see
    // `jsonBytes`): an item at a time measured slower than the whole at once, the whole slower than slices.
    // The page likewise, in parts (`reportHtmlParts`).
    return format === 'html' ? page(utf8Bytes(reportHtmlParts(report)), 'text/html; charset=utf-8') : page(jsonBytes(report, 'history'), 'application/json; charset=utf-8');
  }

  /** Records of processing activities (Art. 30): per purpose, declared and observed; `?format=csv`, or `html` for a page to print. */
  @Get('ropa')
  @Header('content-security-policy', PAGE_POLICY)
  @Header('x-content-type-options', 'nosniff')
  async ropa(@Param('tenant') tenant: string, @Query() query: unknown, @Req() req: FastifyRequest) {
    await this.access.require(req, tenant, 'read-ropa');
    const { format, asOf } = decodeQuery(RopaQuery, query);
    const ropa = await this.queries.execute(new GetRecordsOfProcessing(tenant, asOf));
    if (format === 'csv') return page(ropaCsv(ropa), 'text/csv; charset=utf-8', `${tenant}-ropa${asOf ? `-${asOf.slice(0, 10)}` : ''}.csv`);
    return format === 'html' ? page(ropaHtml(ropa), 'text/html; charset=utf-8') : ropa;
  }

  /** The disclosure register, in log order. */
  @Get('disclosures')
  async disclosures(@Param('tenant') tenant: string, @Query() query: unknown, @Req() req: FastifyRequest) {
    await this.access.require(req, tenant, 'read-disclosures');
    const { limit, cursor, from, to, ...filter } = decodeQuery(DisclosuresQuery, query);
    return this.queries.execute(new ListDisclosures(tenant, { ...filter, ...(from ? { from: sortableInstant(from) } : {}), ...(to ? { to: sortableInstant(to) } : {}) }, cursor ?? -1, limit ?? 100));
  }

  /** Who read which subject's data, when and what (dpo, auditor). */
  @Get('access-log')
  async accessLog(@Param('tenant') tenant: string, @Query() query: unknown, @Req() req: FastifyRequest) {
    await this.access.require(req, tenant, 'read-access-log');
    const { limit, cursor, from, to, ...filter } = decodeQuery(AccessLogQuery, query);
    return this.queries.execute(new ListAccessLog(tenant, { ...filter, ...(from ? { from: sortableInstant(from) } : {}), ...(to ? { to: sortableInstant(to) } : {}) }, cursor ?? -1, limit ?? 100));
  }
}
