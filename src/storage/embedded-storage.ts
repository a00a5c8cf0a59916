import { join } from 'node:path';
import { SqliteAuditTrailReadModel } from '../audit-trail/sqlite/sqlite-audit-trail-read-model.js';
import { auditTrailProjection } from '../audit-trail/sqlite/audit-trail-projection.js';
import { declarationsProjection } from '../declarations/sqlite/declarations-projection.js';
import { SqliteDeclarationsReadModel } from '../declarations/sqlite/sqlite-declarations-read-model.js';
import type { MasterKey } from '../keys/master-key.js';
import { SqliteKeyStore } from '../keys/sqlite/sqlite-key-store.js';
import { SqliteEventStore } from '../ledger/sqlite/sqlite-event-store.js';
import { openDatabase } from '../common/sqlite/open-database.js';
import { SqliteTenantDirectory } from '../tenancy/sqlite/sqlite-tenant-directory.js';
import { tenancyProjection } from '../tenancy/sqlite/tenancy-projection.js';

/**
 * The embedded backend: `ledger.db` (the log and the read models folded inline from it) and
 * `keys.db` (data keys and the blind index), two SQLite files in the data directory.
 */
export function openEmbeddedStorage(dataDir: string, master: MasterKey) {
  const ledgerDb = openDatabase(join(dataDir, 'ledger.db'));
  const keysDb = openDatabase(join(dataDir, 'keys.db'), { secureDelete: true });
  const keysIndexDb = openDatabase(join(dataDir, 'keys.db'), { secureDelete: true });
  const projections = [tenancyProjection(ledgerDb), declarationsProjection(ledgerDb), auditTrailProjection(ledgerDb)];
  const eventStore = new SqliteEventStore(ledgerDb, projections);
  const keyStore = new SqliteKeyStore(keysDb, keysIndexDb, master, () => new Date().toISOString());
  return {
    eventStore,
    keyStore,
    tenants: new SqliteTenantDirectory(ledgerDb),
    declarations: new SqliteDeclarationsReadModel(ledgerDb),
    auditTrail: new SqliteAuditTrailReadModel(ledgerDb),
    healthy: () => ledgerDb.open && keysDb.open && (ledgerDb.prepare('select 1 as ok').get() as { ok: number }).ok === 1,
    async close() {
      await eventStore.close();
      keyStore.close();
    },
  };
}
export type EmbeddedStorage = ReturnType<typeof openEmbeddedStorage>;
