import { Body, Controller, Get, Param, Put, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Declare } from '../../declarations/application/declare.js';
import { GetDeclaration, ListDeclarations } from '../../declarations/application/get-declarations.js';
import * as t from 'io-ts';
import { DECLARATION_KINDS, type DeclarationBody, type Declared, type DeclarationKind } from '../../declarations/domain/declaration.js';
import { Slug } from '../../common/kernel/ids.js';
import { Instant, sortableInstant } from '../../common/kernel/time.js';
import { struct } from '../../common/kernel/codec.js';
import { Access, orProblem } from './access.js';
import { problem, problemOf } from './problem.js';
import { pageAfterKey } from '../../common/kernel/paging.js';
import { decodeBody, decodeQuery, KeyCursorParam, LimitParam } from './query-params.js';

const AsOf = struct('query parameters', {}, { asOf: Instant });
const AsOfPage = struct('query parameters', {}, { asOf: Instant, limit: LimitParam, cursor: KeyCursorParam });
const view = (d: Declared) => ({ id: d.id, version: d.version, recordedAt: d.recordedAt, ...d.body });

/** Purposes, systems and recipients: admin and dpo write, every role reads, `?asOf=` answers the past. */
@Controller('v1/tenants/:tenant')
export class DeclarationsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus, private readonly access: Access) {}

  @Put('purposes/:id') putPurpose(@Param('tenant') t: string, @Param('id') id: string, @Body() b: unknown, @Req() r: FastifyRequest, @Res({ passthrough: true }) s: FastifyReply) { return this.put('purposes', t, id, b, r, s); }
  @Put('systems/:id') putSystem(@Param('tenant') t: string, @Param('id') id: string, @Body() b: unknown, @Req() r: FastifyRequest, @Res({ passthrough: true }) s: FastifyReply) { return this.put('systems', t, id, b, r, s); }
  @Put('recipients/:id') putRecipient(@Param('tenant') t: string, @Param('id') id: string, @Body() b: unknown, @Req() r: FastifyRequest, @Res({ passthrough: true }) s: FastifyReply) { return this.put('recipients', t, id, b, r, s); }
  @Get('purposes') purposes(@Param('tenant') t: string, @Query() q: unknown, @Req() r: FastifyRequest) { return this.list('purposes', t, q, r); }
  @Get('systems') systems(@Param('tenant') t: string, @Query() q: unknown, @Req() r: FastifyRequest) { return this.list('systems', t, q, r); }
  @Get('recipients') recipients(@Param('tenant') t: string, @Query() q: unknown, @Req() r: FastifyRequest) { return this.list('recipients', t, q, r); }
  @Get('purposes/:id') purpose(@Param('tenant') t: string, @Param('id') id: string, @Query() q: unknown, @Req() r: FastifyRequest) { return this.one('purposes', t, id, q, r); }
  @Get('systems/:id') system(@Param('tenant') t: string, @Param('id') id: string, @Query() q: unknown, @Req() r: FastifyRequest) { return this.one('systems', t, id, q, r); }
  @Get('recipients/:id') recipient(@Param('tenant') t: string, @Param('id') id: string, @Query() q: unknown, @Req() r: FastifyRequest) { return this.one('recipients', t, id, q, r); }

  private async put(kind: DeclarationKind, tenant: string, id: string, body: unknown, req: FastifyRequest, reply: FastifyReply) {
    const by = await this.access.require(req, tenant, 'write-declarations');
    if (!Slug.is(id)) throw problem(400, 'invalid-id', 'Invalid identifier', 'An identifier is letters, digits, ".", "_" or "-", at most 64 characters.');
    const decoded = decodeBody<DeclarationBody>(DECLARATION_KINDS[kind].codec as t.Decoder<unknown, DeclarationBody>, body);
    const r = orProblem(await this.commands.execute(new Declare(tenant, kind, id, decoded, by)));
    void reply.status(r.created ? 201 : 200);
    return { id: r.id, version: r.version, changed: r.changed, ...r.body };
  }

  private async list(kind: DeclarationKind, tenant: string, query: unknown, req: FastifyRequest) {
    await this.access.require(req, tenant, 'read-declarations');
    const { asOf, limit, cursor } = decodeQuery(AsOfPage, query);
    const items = await this.queries.execute(new ListDeclarations(tenant, kind, asOf ? sortableInstant(asOf) : undefined));
    const page = pageAfterKey(items, (d) => [d.id], cursor ?? null, limit ?? 100);
    return { items: page.items.map(view), nextCursor: page.nextCursor };
  }

  private async one(kind: DeclarationKind, tenant: string, id: string, query: unknown, req: FastifyRequest) {
    await this.access.require(req, tenant, 'read-declarations');
    const { asOf } = decodeQuery(AsOf, query);
    const d = await this.queries.execute(new GetDeclaration(tenant, kind, id, asOf ? sortableInstant(asOf) : undefined));
    if (!d) throw problemOf({ _tag: 'DeclarationNotFound', kind, id });
    return view(d);
  }
}
