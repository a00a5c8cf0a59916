import { getHeapStatistics } from 'node:v8';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { StreamAppend } from '../ledger/event-store.port.js';

/** What a storage worker answers to each request (`id` as sent). */
export type WorkerResponse =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

/**
 * The main thread's handle on a storage worker: every request is a message answered once it is done;
 * when the worker fails or stops, every pending request fails with why, and so does every later one.
 */
export class WorkerCalls<Op extends { readonly op: string }> {
  private readonly worker: Worker;
  private next = 0;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;
  private closed = false;

  constructor(script: URL, workerData: unknown, resourceLimits: ResourceLimits) {
    this.worker = new Worker(script, { workerData, resourceLimits });
    this.worker.on('message', (m: WorkerResponse) => {
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

  call<T>(op: Op): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('the storage is closed'));
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...op, id });
    });
  }

  /** Asks the worker to close what it holds (`closing`), then stops it. */
  protected async stop(closing: Op): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.failure) await this.call(closing);
    } finally {
      this.closed = true;
      await this.worker.terminate();
    }
  }
}

/** The entries' objects stay on the main thread: a worker reads them back from their bytes, cheaper than copying them. */
export const withoutContexts = (appends: readonly StreamAppend[]): StreamAppend[] =>
  appends.map((a) => ({ ...a, events: a.events.map(({ context: _, ...e }) => e) }));

/** On the worker: each entry's object again, from bytes canonicalised by the main thread's writer a moment ago (parsed, not validated again). */
export const withContexts = (appends: readonly StreamAppend[]): StreamAppend[] =>
  appends.map((a) => ({ ...a, events: a.events.map((e) => ({ ...e, context: JSON.parse(Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength).toString('utf8')) })) }));

/** On the worker: its own heap, as the main thread's `heap()` reports it. */
export function heapStats(): { used: number; total: number } {
  const h = getHeapStatistics();
  return { used: h.used_heap_size, total: h.total_heap_size };
}

/** On the worker: answers each request as it is served, errors as their message only. */
export function answering<R extends { readonly id: number; readonly op: string }>(port: import('node:worker_threads').MessagePort, serve: (r: R) => unknown): void {
  port.on('message', async (r: R) => {
    let answer: WorkerResponse;
    try {
      answer = { id: r.id, ok: true, value: await serve(r) };
    } catch (e) {
      answer = { id: r.id, ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(answer);
    if (r.op === 'close') port.close();
  });
}
