import { Readable } from 'node:stream';
import { Controller, Get, HttpCode, Param, Post, Query, Req, StreamableFile } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import * as t from 'io-ts';
import { struct } from '../../common/kernel/codec.js';
import { Uuid } from '../../common/kernel/ids.js';
import { ExportLog } from '../../integrity/application/export-log.js';
import { GetConsistencyProof, GetInclusionProof, GetLatestCheckpoint, ListSigningKeys, RotateSigningKey } from '../../integrity/application/proofs.js';
import { Access, orProblem } from './access.js';
import { problem } from './problem.js';
import { decodePath, decodeQuery } from './query-params.js';

/** A whole number of entries (a tree size or a log position), as a query parameter. */
const Count = (min: number) => new t.Type<number, string, unknown>(`a whole number from ${min}`,
  (u): u is number => typeof u === 'number',
  (u, c) => {
    const n = typeof u === 'string' && /^\d{1,16}$/.test(u) ? Number(u) : NaN;
    return Number.isSafeInteger(n) && n >= min ? t.success(n) : t.failure(u, c, `must be a whole number from ${min}`);
  }, String);

const ProofQuery = struct('query parameters', {}, { treeSize: Count(1) });
const ConsistencyQuery = struct('query parameters', { from: Count(1) }, { to: Count(1) });
const ExportQuery = struct('query parameters', {}, { from: Count(0), to: Count(0) });
const EventIdParam = struct('path parameters', { eventId: Uuid });

/** Proofs that nothing was altered: checkpoints, inclusion and consistency proofs, the log itself, the keys. */
@Controller()
export class IntegrityController {
  constructor(private readonly queries: QueryBus, private readonly commands: CommandBus, private readonly access: Access) {}

  @Get('v1/tenants/:tenant/checkpoints/latest')
  async latest(@Param('tenant') tenant: string, @Req() req: FastifyRequest) {
    await this.access.require(req, tenant, 'read-proofs');
    return orProblem(await this.queries.execute(new GetLatestCheckpoint(tenant)));
  }

  @Get('v1/tenants/:tenant/checkpoints/consistency')
  async consistency(@Param('tenant') tenant: string, @Query() query: unknown, @Req() req: FastifyRequest) {
    await this.access.require(req, tenant, 'read-proofs');
    const { from, to } = decodeQuery(ConsistencyQuery, query);
    return orProblem(await this.queries.execute(new GetConsistencyProof(tenant, from, to)));
  }

  @Get('v1/tenants/:tenant/events/:eventId/proof')
  async inclusion(@Param('tenant') tenant: string, @Param('eventId') eventId: string, @Query() query: unknown, @Req() req: FastifyRequest) {
    await this.access.require(req, tenant, 'read-proofs');
    decodePath(EventIdParam, { eventId });
    const { treeSize } = decodeQuery(ProofQuery, query);
    return orProblem(await this.queries.execute(new GetInclusionProof(tenant, eventId, treeSize)));
  }

  /** NDJSON, one line per log entry: exactly the bytes that were hashed. */
  @Get('v1/tenants/:tenant/log/export')
  async export(@Param('tenant') tenant: string, @Query() query: unknown, @Req() req: FastifyRequest) {
    await this.access.require(req, tenant, 'read-proofs');
    const { from, to } = decodeQuery(ExportQuery, query);
    const exported = orProblem(await this.queries.execute(new ExportLog(tenant, from, to)));
    return new StreamableFile(Readable.from(exported.lines), {
      type: 'application/x-ndjson',
      disposition: `attachment; filename="${tenant}-log-${exported.from}-${exported.to}.ndjson"`,
    });
  }

  /** The public keys that sign checkpoints, current and retired: public, no token needed. */
  @Get('v1/keys')
  async keys() {
    return { items: await this.queries.execute(new ListSigningKeys()) };
  }

  /** A new checkpoint-signing key (bootstrap admin); earlier checkpoints stay verifiable with the retired one. */
  @Post('v1/keys/rotate')
  @HttpCode(201)
  async rotate(@Req() req: FastifyRequest) {
    if ((await this.access.principal(req)).kind !== 'root') throw problem(403, 'forbidden', 'Forbidden', 'Only the bootstrap admin may rotate the signing key.');
    return orProblem(await this.commands.execute(new RotateSigningKey(new Date())));
  }
}
