import type { PdlConfig } from '../config/config.js';
import { configuredMasterKey, openConfiguredStorage } from '../storage/open-storage.js';

/**
 * `pdl rebuild [--data-dir <dir>]`: drops every read model and folds them again from the log. Embedded:
 * of a stopped ledger, in batches that commit their rows and their progress together, so an interrupted
 * rebuild resumes where it stopped (the next start, or the next `pdl rebuild`, finishes it). PostgreSQL:
 * in one transaction under the append lock (the ledger processes wait; a failed rebuild changes nothing).
 * The log and the key store are not touched.
 */
export async function rebuild(config: PdlConfig, out: (s: string) => void, progress: (s: string) => void): Promise<number> {
  const { master } = await configuredMasterKey(config);
  const started = Date.now();
  let shown = 0;
  const storage = await openConfiguredStorage(config, master, {
    tool: true,
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
  // The rate over the whole command (opening, dropping the old tables, folding, copying), as a user waits for it.
  out(r ? `rebuilt the read models from ${r.events} log entries in ${seconds.toFixed(1)} s (${Math.round(r.events / Math.max(seconds, 0.001))} entries/s; folding ${(r.ms / 1000).toFixed(1)} s)` : 'the log is empty: nothing to rebuild');
  return 0;
}
