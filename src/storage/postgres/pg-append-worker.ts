import { parentPort, workerData } from 'node:worker_threads';
import { schemaPool } from '../../common/postgres/migrations.js';
import type { AppendLease } from '../../ledger/event-store.port.js';
import { PgEventStore } from '../../ledger/postgres/pg-event-store.js';
import { postgresProjections } from '../postgres-storage.js';
import { answering, heapStats, unpackAppends } from '../worker-calls.js';
import type { PgAppendRequest } from './pg-append-protocol.js';

/**
 * The PostgreSQL append worker: runs each append's transaction — the log rows and the read models folded
 * into it, under the append lock — on a thread of its own, so that the round trips of that critical
 * section never wait behind the main thread's request handling (which holds everyone else's appends up).
 */
const port = parentPort!;
const { url, schema, connections } = workerData as { url: string; schema: string; connections: number };
const pool = schemaPool(url, schema, connections);
const store = PgEventStore.attached(pool, schema, postgresProjections());
const leases = new Map<number, AppendLease>();
let nextLease = 0;

async function serve(r: PgAppendRequest): Promise<unknown> {
  switch (r.op) {
    case 'append': return store.append(unpackAppends(r.appends));
    case 'lease': {
      const id = nextLease++;
      leases.set(id, await store.lease());
      return id;
    }
    case 'leaseAppend': {
      const lease = leases.get(r.lease);
      if (!lease) throw new Error('that turn at appending was released');
      return lease.append(unpackAppends(r.appends));
    }
    case 'release': {
      const lease = leases.get(r.lease);
      leases.delete(r.lease);
      return lease?.release();
    }
    case 'heapStats': return heapStats();
    case 'close':
      for (const lease of leases.values()) await lease.release();
      leases.clear();
      return pool.end();
  }
}

answering<PgAppendRequest>(port, serve);
