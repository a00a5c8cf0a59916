import type { MessagePort, ResourceLimits } from 'node:worker_threads';
import { Worker, workerData } from 'node:worker_threads';
import { DONE, type ApartResult } from './rebuild-apart.js';

/**
 * Watches the rebuild's worker on behalf of the appender's thread, which waits on shared memory
 * (`Atomics.wait`) and so cannot hear a worker's `exit`: relays the worker's answer on `port`, or, when
 * the worker ends without one (out of memory, or killed), says why; then wakes the appender's thread.
 */
const { script, data, resourceLimits, state, port } = workerData as {
  script: string; data: Record<string, unknown>; resourceLimits: ResourceLimits; state: Int32Array; port: MessagePort;
};

let answered = false;
function answer(result: ApartResult): void {
  if (answered) return;
  answered = true;
  port.postMessage(result);
  Atomics.store(state, DONE, 1);
  Atomics.notify(state, DONE);
}

const worker = new Worker(new URL(script), { workerData: { ...data, state }, resourceLimits });
let failure: string | null = null;
worker.on('message', (result: ApartResult) => answer(result));
worker.on('error', (e: Error & { code?: string }) => {
  failure = e.code === 'ERR_WORKER_OUT_OF_MEMORY'
    ? `it ran out of memory${resourceLimits.maxOldGenerationSizeMb ? ` (its heap is limited to ${resourceLimits.maxOldGenerationSizeMb} MB)` : ''}`
    : e.message;
});
// Messages a worker posts before it ends are delivered before its `exit`: an answer given is relayed as given.
worker.on('exit', (code) => answer({ ok: false, error: `it ended without an answer: ${failure ?? `exit code ${code}`}` }));
