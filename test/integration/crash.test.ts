import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { aTenant, anEvent } from '../support/builders.js';
import { client, ROOT, startLedger, tempDir } from '../support/ledger-process.js';

const ROUNDS = 10;

/** kill -9 under concurrent load, at random moments: every acknowledged event must survive, exactly once, without gaps. */
describe('a ledger killed with SIGKILL under load', () => {
  it(`loses no acknowledged event over ${ROUNDS} rounds and keeps positions gap-free`, async () => {
    const dataDir = tempDir('pdl-crash-');
    const adminToken = 'crash-root-token';
    let token = '';
    const acked: Array<ReturnType<typeof anEvent>> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const ledger = await startLedger({ dataDir, adminToken });
      if (round === 0) token = (await aTenant(ledger)).tokens.emitter;
      const em = client(ledger.base, token);
      // every checkpoint signed before the crash still matches the log
      if (round > 0) expect((await client(ledger.base, token)('GET', '/v1/tenants/chatbox/checkpoints/latest')).status).toBe(200);
      // what was acknowledged before the last crash is still there
      for (let i = 0; i < acked.length; i += 1000) {
        const r = await em('POST', '/v1/tenants/chatbox/events', { events: acked.slice(i, i + 1000) });
        expect(r.status).toBe(200);
        expect(r.json.results.filter((x: { status: string }) => x.status !== 'duplicate')).toEqual([]);
      }
      let stop = false;
      const worker = async (w: number) => {
        while (!stop) {
          const batch = Array.from({ length: w % 2 ? 1 : 25 }, () => anEvent());
          try {
            const r = await em('POST', '/v1/tenants/chatbox/events', { events: batch });
            if (r.status === 200) acked.push(...batch);
          } catch { /* the process died mid-request: not acknowledged */ }
        }
      };
      const workers = Array.from({ length: 8 }, (_, w) => worker(w));
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 1200));
      await ledger.stop('SIGKILL');
      stop = true;
      await Promise.all(workers);
    }
    const ledger = await startLedger({ dataDir, adminToken });
    await ledger.stop();
    const db = new Database(join(dataDir, 'ledger.db'), { readonly: true });
    const rows = db.prepare("select revision, event_id from events where stream = 'ledger-chatbox' order by revision").all() as Array<{ revision: number; event_id: string }>;
    db.close();
    expect(rows.every((r, i) => r.revision === i)).toBe(true);
    const ids = new Set(rows.map((r) => r.event_id));
    expect(ids.size).toBe(rows.length);
    expect(acked.length).toBeGreaterThan(ROUNDS * 50);
    expect(acked.filter((e) => !ids.has(e.eventId))).toEqual([]);
    // and the log, its chain, its Merkle tree and every checkpoint signed between the crashes agree
    const self = spawnSync(process.execPath, [join(ROOT, 'bin', 'pdl.js'), 'verify', '--data-dir', dataDir], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect([self.status, self.stderr]).toEqual([0, '']);
  });
});
