import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import { boundedString, struct } from '../../common/kernel/codec.js';
import { FindSubjects } from '../../subjects/application/find-subjects.js';
import { GetErasureCertificate } from '../../keys/application/erasure-certificate.js';
import { Access, orProblem } from './access.js';
import { decodePath, decodeQuery, SubjectParam } from './query-params.js';

/** `kind:value`, e.g. `ip:203.0.113.7` or `email:b@example.org`. */
const IdentifierParam = boundedString('an identifier', 1100, /^[a-z][a-z0-9_-]{0,31}:.+$/s, 'kind:value, such as ip:203.0.113.7');
const LookupQuery = struct('query parameters', { identifier: IdentifierParam });

/** Finding a subject by one of its identifiers, without the ledger ever keeping it in clear. */
@Controller('v1/tenants/:tenant/subjects')
export class SubjectsController {
  constructor(private readonly queries: QueryBus, private readonly access: Access) {}

  /** What was erased of the subject, where, when and why, and what is still held on which basis until when. */
  @Get(':subject/erasure')
  async erasure(@Param('tenant') tenant: string, @Param('subject') subject: string, @Req() req: FastifyRequest) {
    await this.access.require(req, tenant, 'read-erasure');
    decodePath(SubjectParam, { subject });
    return orProblem(await this.queries.execute(new GetErasureCertificate(tenant, subject)));
  }

  @Get()
  async lookup(@Param('tenant') tenant: string, @Query() query: unknown, @Req() req: FastifyRequest) {
    const by = await this.access.require(req, tenant, 'read-identifiers');
    const { identifier } = decodeQuery(LookupQuery, query);
    const at = identifier.indexOf(':');
    return orProblem(await this.queries.execute(new FindSubjects(tenant, identifier.slice(0, at), identifier.slice(at + 1), by)));
  }
}
