import { Worker } from 'node:worker_threads';
import type { KeyWrites } from '../keys/sqlite/sqlite-key-writer.js';
import type { AppendReceipt } from '../ledger/sqlite/sqlite-log-appender.js';
import type { LogWrites } from '../ledger/sqlite/sqlite-event-store.js';
import type { WriteOperation, WriteResponse } from './write-protocol.js';

/** The main thread's handle on the storage worker: every write is a request answered once it is done. */
export class WriteWorkerClient {
  private readonly worker: Worker;
  private next = 0;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;
  private closed = false;

  constructor(dataDir: string, rules = true) {
    this.worker = new Worker(new URL('./write-worker.js', import.meta.url), {
      workerData: { dataDir, rules },
      // It holds one group of entries at a time: a small young generation keeps the process's memory down.
      resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 256 },
    });
    this.worker.on('message', (m: WriteResponse) => {
      const call = this.calls.get(m.id);
      if (!call) return;
      this.calls.delete(m.id);
      if (m.ok) call.resolve(m.value);
      else call.reject(new Error(m.error));
    });
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => this.fail(new Error(`the storage worker stopped (exit code ${code})`)));
  }

  get healthy(): boolean {
    return this.failure === null && !this.closed;
  }

  private fail(e: Error) {
    if (this.closed && this.calls.size === 0) return;
    this.failure ??= e;
    for (const c of this.calls.values()) c.reject(this.failure);
    this.calls.clear();
  }

  call<T>(op: WriteOperation): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('the storage is closed'));
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...op, id });
    });
  }

  /** The entries' objects stay here: the worker reads them back from their bytes, cheaper than copying them. */
  readonly logWrites: LogWrites = (appends) =>
    this.call<AppendReceipt>({ op: 'append', appends: appends.map((a) => ({ ...a, events: a.events.map(({ context: _, ...e }) => e) })) });

  readonly keyWrites: KeyWrites = {
    insertKeys: (indexKeys, keys) => this.call({ op: 'insertKeys', indexKeys, keys }),
    addIndexEntries: (tenant, entries, position) => this.call({ op: 'addIndexEntries', tenant, entries, position }),
    flushIndex: () => this.call({ op: 'flushIndex' }),
    destroyKeys: (tenant, keys, index) => this.call({ op: 'destroyKeys', tenant, keys, index }),
    setHold: (tenant, subject, category, hold) => this.call({ op: 'setHold', tenant, subject, category, hold }),
    setSwept: (tenant, mark) => this.call({ op: 'setSwept', tenant, mark }),
  };

  /** The storage worker's heap (it has its own, apart from the main thread's). */
  readonly heap = (): Promise<{ used: number; total: number }> => this.call({ op: 'heapStats' });

  /** Writes the log's deferred indexes, so that reads on other connections see them. */
  readonly flushLog = (): Promise<void> => this.call({ op: 'flushLog' });

  /** Writes what is buffered, closes the worker's connections and stops it. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.failure) await this.call({ op: 'close' });
    } finally {
      this.closed = true;
      await this.worker.terminate();
    }
  }
}
