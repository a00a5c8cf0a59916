import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aTenant } from '../support/builders.js';
import { client, ROOT, startLedger, tempDir } from '../support/ledger-process.js';
import { playScenario } from '../support/scenario-player.js';

const pdl = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [join(ROOT, 'bin', 'pdl.js'), ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', ...env } });

describe('pdl keys rotate-master', () => {
  it('re-wraps every key under a new master key; the ledger reads with it, a rotation stopped before its last step is finished at start', async () => {
    const dataDir = tempDir();
    let ledger = await startLedger({ dataDir });
    const t = await aTenant(ledger);
    await playScenario(t);
    const before = (await t.dpo('GET', `${t.P}/events?subject=visitor:d`)).json.items[0].event.subject.identifiers;
    expect(before).toEqual({ ip: '203.0.113.99' });
    await ledger.stop();
    const oldKey = readFileSync(join(dataDir, 'master.key'), 'utf8');

    const r = pdl(['keys', 'rotate-master', '--data-dir', dataDir]);
    expect([r.status, r.stdout]).toEqual([0, expect.stringMatching(/re-wrapped \d+ keys under master key/)]);
    const newKey = readFileSync(join(dataDir, 'master.key'), 'utf8');
    expect(newKey).not.toBe(oldKey);

    // As if the process had stopped after the commit, before moving the new key file into place.
    writeFileSync(join(dataDir, 'master.key'), oldKey);
    writeFileSync(join(dataDir, 'master.key.next'), newKey);
    ledger = await startLedger({ dataDir, adminToken: ledger.adminToken });
    try {
      const dpo = client(ledger.base, t.tokens.dpo!);
      expect((await dpo('GET', `${t.P}/events?subject=visitor:d`)).json.items[0].event.subject.identifiers).toEqual(before);
      expect(readFileSync(join(dataDir, 'master.key'), 'utf8')).toBe(newKey);
    } finally {
      await ledger.stop();
    }
    // The old master key opens nothing any more.
    const stale = await startLedger({ dataDir, env: { PDL_MASTER_KEY: oldKey.trim() } }).then(async (l) => {
      const status = (await client(l.base, t.tokens.dpo!)('GET', `${t.P}/events?subject=visitor:d`)).status;
      await l.stop();
      return status;
    }, () => 'refused to start');
    expect(stale).not.toBe(200);
  }, 60_000);
});
