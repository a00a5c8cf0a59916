import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../common/sqlite/open-database.js';
import { SqliteKeyWriter } from '../keys/sqlite/sqlite-key-writer.js';
import { SqliteLogAppender } from '../ledger/sqlite/sqlite-log-appender.js';
import { embeddedProjections, readModelsVersion, type ProjectionOptions } from './embedded-projections.js';
import { answering, heapStats, unpackAppends } from './worker-calls.js';
import type { WriteRequest } from './write-protocol.js';

/**
 * The storage worker: owns the write connections of `ledger.db` and `keys.db`, so that commits and
 * their fsyncs run beside the main thread, which meanwhile parses requests and prepares the next group.
 * Requests are served one at a time, in the order they were sent.
 */
const port = parentPort!;
const { dataDir, projections } = workerData as { dataDir: string; projections: ProjectionOptions };
const ledgerDb = openDatabase(join(dataDir, 'ledger.db'));
const appender = new SqliteLogAppender(ledgerDb, openDatabase(join(dataDir, 'ledger.db')), embeddedProjections(ledgerDb, projections), { version: readModelsVersion(projections) });
const keys = new SqliteKeyWriter(openDatabase(join(dataDir, 'keys.db'), { secureDelete: true }), openDatabase(join(dataDir, 'keys.db'), { secureDelete: true }));

function serve(r: WriteRequest): unknown {
  switch (r.op) {
    case 'append': return appender.append(unpackAppends(r.appends));
    case 'insertKeys': return keys.insertKeys(r.indexKeys, r.keys);
    case 'addIndexEntries': return keys.addIndexEntries(r.tenant, r.entries, r.position);
    case 'flushIndex': return keys.flushIndex();
    case 'destroyKeys': return keys.destroyKeys(r.tenant, r.keys, r.index.map((e) => ({ ...e, hmac: Buffer.from(e.hmac) })));
    case 'setHold': return keys.setHold(r.tenant, r.subject, r.category, r.hold);
    case 'setMark': return keys.setMark(r.tenant, r.kind, r.mark);
    case 'flushLog': return appender.flush();
    case 'heapStats': return heapStats();
    case 'close':
      keys.close();
      appender.close();
      return undefined;
  }
}

answering<WriteRequest>(port, serve);
