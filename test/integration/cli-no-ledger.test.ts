import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPdl, tempDir } from '../support/ledger-process.js';

describe('a tool pointed at a data directory that holds no ledger', () => {
  it('refuses it (exit 2, naming it) and creates nothing there: rebuild, forget, retention, import, export, backup', async () => {
    const root = tempDir();
    const events = join(root, 'events.ndjson');
    writeFileSync(events, '{}\n');
    const commands = [
      ['rebuild'], ['forget', 'visitor:a', '--tenant', 'acme'], ['retention', 'enforce'], ['import', events, '--tenant', 'acme'], ['export', '--tenant', 'acme'], ['backup', join(root, 'copy')],
    ];
    for (const [i, args] of commands.entries()) {
      const dir = join(root, `typo-${i}`);
      const r = await runPdl(args, { PDL_DATA_DIR: dir, PDL_STORE: 'sqlite' });
      expect([args[0], r.status, r.stderr]).toEqual([args[0], 2, expect.stringContaining(`${dir} holds no ledger (no ledger.db)`)]);
      // No master key, signing key or empty ledger made for a mistyped path.
      expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    }
  });
});
