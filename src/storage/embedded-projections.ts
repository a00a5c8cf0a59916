import { auditTrailProjection } from '../audit-trail/sqlite/audit-trail-projection.js';
import type { Db } from '../common/sqlite/open-database.js';
import { declarationsProjection } from '../declarations/sqlite/declarations-projection.js';
import type { InlineProjection } from '../ledger/event-store.port.js';
import { tenancyProjection } from '../tenancy/sqlite/tenancy-projection.js';

/** The read models folded inline into each commit of the embedded log (and their tables, created on `db`). */
export const embeddedProjections = (db: Db): Array<InlineProjection<Db>> => [tenancyProjection(db), declarationsProjection(db), auditTrailProjection(db)];
