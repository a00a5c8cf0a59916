import type { AppendLease, AppendOutcome, EventStore, RecordedEvent, StreamAppend } from '../../ledger/event-store.port.js';
import { packAppends, WorkerCalls, type OnWorkerLost } from '../worker-calls.js';
import type { PgAppendOperation } from './pg-append-protocol.js';

/**
 * The PostgreSQL event store as the server uses it: reads on the main thread's pool (`reads`), appends
 * (and turns at appending alone) on the append worker, which folds the read models into each append.
 */
export class PgWorkerEventStore extends WorkerCalls<PgAppendOperation> implements EventStore {
  constructor(private readonly reads: EventStore, url: string, schema: string, onLost?: OnWorkerLost) {
    super(new URL('./pg-append-worker.js', import.meta.url), { url, schema, connections: 3 }, { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 256 }, onLost);
  }

  append(appends: readonly StreamAppend[]): Promise<AppendOutcome[]> {
    return this.call({ op: 'append', appends: packAppends(appends) });
  }

  async lease(): Promise<AppendLease> {
    const lease = await this.call<number>({ op: 'lease' });
    let released = false;
    return {
      append: (appends) => this.call({ op: 'leaseAppend', lease, appends: packAppends(appends) }),
      release: async () => {
        if (released) return;
        released = true;
        await this.call({ op: 'release', lease });
      },
    };
  }

  streamRevision(stream: string): Promise<number | null> {
    return this.reads.streamRevision(stream);
  }

  readStream(stream: string, fromRevision: number, maxCount: number): Promise<RecordedEvent[]> {
    return this.reads.readStream(stream, fromRevision, maxCount);
  }

  readAll(fromGlobalPosition: bigint, maxCount: number): Promise<RecordedEvent[]> {
    return this.reads.readAll(fromGlobalPosition, maxCount);
  }

  findByEventIds(stream: string, eventIds: readonly string[]): Promise<RecordedEvent[]> {
    return this.reads.findByEventIds(stream, eventIds);
  }

  /** The worker's heap (it has its own, apart from the main thread's). */
  heap(): Promise<{ used: number; total: number }> {
    return this.call({ op: 'heapStats' });
  }

  /** Ends the worker's connections (releasing any turn it holds) and stops it; the reads' pool is the caller's. */
  async close(): Promise<void> {
    await this.stop({ op: 'close' });
    await this.reads.close();
  }
}
