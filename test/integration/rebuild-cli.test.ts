import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { aTenant } from '../support/builders.js';
import { client, ROOT, startLedger } from '../support/ledger-process.js';
import { playScenario } from '../support/scenario-player.js';

const pdl = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'pdl.js'), ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
const without = ({ generatedAt: _g, ...rest }: any) => rest;

describe('pdl rebuild', () => {
  it('refuses while the ledger runs, then rebuilds a stopped ledger\'s read models to the same answers', async () => {
    const first = await startLedger();
    const t = await aTenant(first);
    await playScenario(t);
    const answers = async (dpo: typeof t.dpo) => ({
      report: without((await dpo('GET', `${t.P}/subjects/visitor:b/report`)).json),
      ropa: without((await dpo('GET', `${t.P}/ropa`)).json),
      findings: (await dpo('GET', `${t.P}/findings?limit=1000`)).json,
      trail: (await dpo('GET', `${t.P}/events?limit=1000&subject=visitor:e`)).json,
      requests: (await dpo('GET', `${t.P}/subject-requests?at=2026-12-01T00:00:00Z`)).json,
    });
    const before = await answers(t.dpo);
    const busy = pdl('rebuild', '--data-dir', first.dataDir);
    expect(busy.status).not.toBe(0);
    expect(busy.stderr).toMatch(/in use|locked|another/i);
    await first.stop();

    const done = pdl('rebuild', '--data-dir', first.dataDir);
    expect([done.status, done.stderr]).toEqual([0, expect.any(String)]);
    expect(done.stdout).toMatch(/rebuilt the read models from \d+ log entries/);

    const second = await startLedger({ dataDir: first.dataDir, adminToken: first.adminToken });
    try {
      const after = await answers(client(second.base, t.tokens.dpo!));
      expect(after).toEqual(before);
    } finally {
      await second.stop();
    }
  }, 60_000);
});
