import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadMasterKey } from '../keys/master-key.js';
import { openEmbeddedStorage } from '../storage/embedded-storage.js';
import { UsageError } from './verify.js';

/**
 * `pdl rebuild [--data-dir <dir>]`: drops every read model of a stopped ledger and folds them again from
 * the log, in batches that commit their rows and their progress together, so an interrupted rebuild
 * resumes where it stopped (the next start, or the next `pdl rebuild`, finishes it). The log, its
 * Merkle tree and the key store are not touched.
 */
export async function rebuild(dataDir: string, masterFromEnv: string | undefined, out: (s: string) => void, progress: (s: string) => void): Promise<number> {
  if (!existsSync(join(dataDir, 'ledger.db'))) throw new UsageError(`${dataDir} holds no ledger (no ledger.db)`);
  const { master } = loadMasterKey(masterFromEnv, dataDir);
  const started = Date.now();
  let shown = 0;
  const storage = openEmbeddedStorage(dataDir, master, {
    writes: 'in-thread',
    rebuild: {
      onProgress: (through, head) => {
        const now = Date.now();
        if (now - shown < 250 && through < head) return;
        shown = now;
        const done = Number(through + 1n), total = Number(head + 1n);
        progress(`rebuilding read models: ${done}/${total} entries (${Math.round((100 * done) / Math.max(total, 1))}%)`);
      },
    },
  });
  const r = storage.rebuilt;
  await storage.close();
  const seconds = (Date.now() - started) / 1000;
  out(r ? `rebuilt the read models from ${r.events} log entries in ${seconds.toFixed(1)} s (${Math.round(r.events / Math.max(r.ms / 1000, 0.001))} entries/s)` : 'the log is empty: nothing to rebuild');
  return 0;
}
