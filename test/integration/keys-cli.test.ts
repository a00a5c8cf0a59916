import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { anEvent, aTenant } from '../support/builders.js';
import { freshDatabase } from '../support/postgres.js';
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
    // The old master key opens nothing any more: the ledger refuses to start with it, saying why.
    const stale = await startLedger({ dataDir, env: { PDL_MASTER_KEY: oldKey.trim() } }).then(async (l) => { await l.stop(); return 'started'; }, (e: Error) => e.message);
    expect(stale).toMatch(/the master key given \(id [0-9a-f]{16}\) is not the one this ledger's keys are wrapped under \(id [0-9a-f]{16}\)/);
    const tool = pdl(['forget', 'visitor:d', '--tenant', t.P.split('/').pop()!, '--data-dir', dataDir], { PDL_MASTER_KEY: oldKey.trim() });
    expect([tool.status, tool.stderr]).toEqual([1, expect.stringContaining('is not the one this ledger\'s keys are wrapped under')]);
  }, 60_000);
});

describe('pdl keys rotate-master on PostgreSQL', () => {
  it('re-wraps every key and the master kept in the database at once, refuses while a ledger runs, and the ledgers read with the new master', async () => {
    const db = await freshDatabase();
    const env = { PDL_STORE: 'postgres', PDL_POSTGRES_URL: db.url, PDL_MASTER_KEY: '' };
    const secret = async () => {
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try { return (await c.query<{ value: string }>("select value from pdl_secrets.secrets where name = 'master-key'")).rows[0]!.value; } finally { await c.end(); }
    };
    try {
      let ledger = await startLedger({ env });
      const t = await aTenant(ledger);
      const ev = anEvent({ subject: { id: 'visitor:rot', identifiers: { ip: '198.51.100.77' } } });
      expect((await t.emitter('POST', `${t.P}/events`, { events: [ev] })).status).toBe(200);
      const opened = async (base: string) => (await client(base, t.tokens.dpo!)('GET', `${t.P}/events?subject=visitor:rot`)).json.items[0].event.subject.identifiers;
      expect(await opened(ledger.base)).toEqual({ ip: '198.51.100.77' });
      const before = await secret();

      const refused = pdl(['keys', 'rotate-master'], env);
      expect([refused.status, refused.stderr]).toEqual([2, expect.stringContaining('stop every ledger process first')]);
      await ledger.stop();

      const r = pdl(['keys', 'rotate-master'], env);
      expect([r.status, r.stdout]).toEqual([0, expect.stringMatching(/re-wrapped [1-9]\d* keys under master key [0-9a-f]{16} \(was [0-9a-f]{16}\)/)]);
      expect(await secret()).not.toBe(before);

      ledger = await startLedger({ env, adminToken: ledger.adminToken });
      try {
        expect(await opened(ledger.base)).toEqual({ ip: '198.51.100.77' });
      } finally {
        await ledger.stop();
      }
      // The old master opens none of them any more: a ledger given it refuses to start.
      const stale = await startLedger({ env: { ...env, PDL_MASTER_KEY: before } }).then(async (l) => { await l.stop(); return 'started'; }, (e: Error) => e.message);
      expect(stale).toMatch(/is not the one this ledger's keys are wrapped under/);
    } finally {
      await db.drop();
    }
  }, 90_000);
});
