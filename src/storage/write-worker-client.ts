import type { KeyWrites } from '../keys/sqlite/sqlite-key-writer.js';
import type { AppendReceipt } from '../ledger/sqlite/sqlite-log-appender.js';
import type { LogWrites } from '../ledger/sqlite/sqlite-event-store.js';
import { packAppends, WorkerCalls, type OnWorkerLost } from './worker-calls.js';
import type { ProjectionOptions } from './embedded-projections.js';
import type { WriteOperation } from './write-protocol.js';

/** The main thread's handle on the embedded store's worker, which owns its write connections. */
export class WriteWorkerClient extends WorkerCalls<WriteOperation> {
  constructor(dataDir: string, projections: ProjectionOptions = {}, onLost?: OnWorkerLost) {
    // It holds one group of entries at a time: a small young generation keeps the process's memory down.
    super(new URL('./write-worker.js', import.meta.url), { dataDir, projections }, { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 256 }, onLost);
  }

  readonly logWrites: LogWrites = (appends) => this.call<AppendReceipt>({ op: 'append', appends: packAppends(appends) });

  readonly keyWrites: KeyWrites = {
    insertKeys: (indexKeys, keys) => this.call({ op: 'insertKeys', indexKeys, keys }),
    addIndexEntries: (tenant, entries, position) => this.call({ op: 'addIndexEntries', tenant, entries, position }),
    flushIndex: () => this.call({ op: 'flushIndex' }),
    destroyKeys: (tenant, keys, index) => this.call({ op: 'destroyKeys', tenant, keys, index }),
    setHold: (tenant, subject, category, hold) => this.call({ op: 'setHold', tenant, subject, category, hold }),
    setMark: (tenant, kind, mark) => this.call({ op: 'setMark', tenant, kind, mark }),
  };

  /** The storage worker's heap (it has its own, apart from the main thread's). */
  readonly heap = (): Promise<{ used: number; total: number }> => this.call({ op: 'heapStats' });

  /** Writes the log's deferred indexes, so that reads on other connections see them. */
  readonly flushLog = (): Promise<void> => this.call({ op: 'flushLog' });

  /** Writes what is buffered, closes the worker's connections and stops it. */
  close(): Promise<void> {
    return this.stop({ op: 'close' });
  }
}
