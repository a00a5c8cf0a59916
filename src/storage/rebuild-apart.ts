import { rmSync } from 'node:fs';
import { MessageChannel, receiveMessageOnPort, Worker, type ResourceLimits } from 'node:worker_threads';
import type { ApartFold, RebuildApart } from '../ledger/sqlite/sqlite-log-appender.js';
import { APART_PROJECTIONS } from './embedded-projections.js';

/** Places in the state the worker and the appender's thread share. */
export const DONE = 0, BEAT = 1, CANCEL = 2;

/** What the rebuild worker says when it is done. */
export type ApartResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** The worker beats once a batch; this long without a beat, it is taken for dead (a batch takes well under a second). */
const STALL_MS = 120_000;

/**
 * The worker's script and its supervisor's, compiled: `dist/storage/`, found from here whether this module
 * runs compiled (`dist/storage/`) or from its source under the tests (`src/storage/`, the build done first).
 */
const WORKER = new URL('../../dist/storage/rebuild-worker.js', import.meta.url);
const SUPERVISOR = new URL('../../dist/storage/rebuild-supervisor.js', import.meta.url);

/**
 * A young generation about the main thread's (`--max-semi-space-size=8`), for the entries it parses and drops
 * (the 1M-event demo ledger's rebuild, alternated: 37.4 / 41.7 s with 8 MB, 34.9 / 37.3 s with 32).
 */
const WORKER_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 32, maxOldGenerationSizeMb: 256 };

/** Removes a SQLite file and its WAL companions. */
export const removeDatabase = (file: string): void => {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
};

/**
 * The read models named in `APART_PROJECTIONS` (the compliance engine's, and the requests its judge
 * reads), folded during a rebuild on a worker thread into `file` (beside
 * `ledger.db`) while the appender's thread folds the others. The appender's constructor runs the rebuild
 * synchronously, so it waits for the worker on shared memory (`Atomics.wait`) rather than on an event;
 * a supervising thread hears the worker end and answers for it when it ends without a word (out of
 * memory, or killed), so that the rebuild fails at once, saying why, instead of after `STALL_MS`.
 * `limits`: the worker's heap (tests give it too little to fold, to see it die).
 */
export function rebuildApart(ledgerFile: string, version: number, limits: ResourceLimits = WORKER_LIMITS): RebuildApart {
  const file = `${ledgerFile}.rebuild-apart`;
  return {
    projections: APART_PROJECTIONS,
    start(fresh: boolean, head: bigint, batches: { readonly batchSize: number; readonly commitEvery: number }): ApartFold {
      if (fresh) removeDatabase(file);
      // [DONE]: 0 while it runs, 1 once it has answered; [BEAT]: one a batch; [CANCEL]: 1 asks it to stop.
      const state = new Int32Array(new SharedArrayBuffer(4 * 3));
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(SUPERVISOR, {
        workerData: { script: WORKER.href, data: { ledgerFile, file, head, version, batches }, resourceLimits: limits, state, port: port2 },
        transferList: [port2],
      });
      worker.unref();
      let ended = false;
      /** It said it failed: its file may be what failed it, so it is not kept for the next try. */
      let failed = false;
      let result: ApartResult | undefined;
      /** Its answer, once it has given one: a failure is thrown. */
      const answered = (): ApartResult | undefined => {
        if (!result && Atomics.load(state, DONE) === 1) result = (receiveMessageOnPort(port1)?.message as ApartResult | undefined) ?? { ok: false, error: 'no answer' };
        if (result && !result.ok) {
          failed = true;
          throw new Error(`the rebuild's worker failed: ${result.error}`);
        }
        return result;
      };
      return {
        check() {
          answered();
        },
        wait() {
          for (;;) {
            const beat = Atomics.load(state, BEAT);
            if (Atomics.wait(state, DONE, 0, STALL_MS) !== 'timed-out') break;
            if (Atomics.load(state, BEAT) === beat) throw new Error(`the rebuild's worker has not moved for ${STALL_MS / 1000} s`);
          }
          answered();
          return file;
        },
        end(keep: boolean) {
          if (ended) return;
          ended = true;
          // Stopped between two batches, so that no other fold (the next try) ever writes its file beside it.
          if (Atomics.load(state, DONE) === 0) {
            Atomics.store(state, CANCEL, 1);
            Atomics.wait(state, DONE, 0, STALL_MS);
          }
          port1.close();
          void worker.terminate();
          if (!keep || failed) removeDatabase(file);
        },
      };
    },
  };
}
