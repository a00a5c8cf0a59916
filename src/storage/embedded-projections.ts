import { auditTrailProjection } from '../audit-trail/sqlite/audit-trail-projection.js';
import type { Db } from '../common/sqlite/open-database.js';
import { declarationsProjection } from '../declarations/sqlite/declarations-projection.js';
import { tenancyProjection } from '../tenancy/sqlite/tenancy-projection.js';
import { complianceProjection } from '../compliance/sqlite/compliance-projection.js';
import { requestsProjection } from '../requests/sqlite/requests-projection.js';
import { merkleProjection } from '../integrity/sqlite/sqlite-merkle.js';
import type { SqliteProjection } from '../ledger/sqlite/sqlite-log-appender.js';
import { answersProjection } from '../answers/sqlite/answers-projection.js';

/**
 * The version of the embedded read models (their tables and what they fold): a store that holds another
 * version has them rebuilt from the log at start-up. Raise it whenever a projection's schema or logic changes.
 */
// 11 was a layout of the trail's subject index that went back to this one: a store at 11 is rebuilt, one at
// 10 has nothing to rebuild.
export const READ_MODELS_VERSION = 10;

/** What `embeddedProjections` folds: only to measure what the read models cost, never in service. */
export interface ProjectionOptions {
  /** false: no compliance engine. */
  readonly rules?: boolean;
  /** false: only the tenants and declarations that the append path itself reads (no trail, answers, Merkle tree, rules). */
  readonly readModels?: boolean;
}

/**
 * The version the read models are recorded under: a store whose read models were folded without some of
 * them (measuring) records another one, so that opening it as usual rebuilds them all from the log.
 */
export const readModelsVersion = (options: ProjectionOptions = {}): number =>
  options.rules === false || options.readModels === false ? -READ_MODELS_VERSION : READ_MODELS_VERSION;

/** The read models folded inline into each commit of the embedded log (and their tables, created on `db`). */
export const embeddedProjections = (db: Db, options: ProjectionOptions = {}): SqliteProjection[] =>
  options.readModels === false ? [tenancyProjection(db), declarationsProjection(db)] : [
    merkleProjection(db), tenancyProjection(db), declarationsProjection(db), auditTrailProjection(db), requestsProjection(db), answersProjection(db),
    ...(options.rules === false ? [] : [complianceProjection(db)]),
  ];

/**
 * The projections a rebuild folds apart (`RebuildApart`): the compliance engine's, and the requests its
 * judge reads (folded there anyway: on the appender's thread too, they cost it ~3% of the demo ledger's
 * rebuild, for 100,000 destroyed keys at random places of their table).
 */
export const APART_PROJECTIONS = ['requests', 'compliance'] as const;

/**
 * What the compliance engine's rebuild folds apart, into a file of its own: the engine, and the read
 * models its judge reads (tenants, declarations, requests), folded in the same order as in the ledger;
 * the tables of those named in `APART_PROJECTIONS` are then copied into the ledger.
 */
export const apartProjections = (db: Db): SqliteProjection[] => [tenancyProjection(db), declarationsProjection(db), requestsProjection(db), complianceProjection(db)];
