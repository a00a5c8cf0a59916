import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { aTenant, scenario } from '../support/builders.js';
import { client, ROOT, startLedger } from '../support/ledger-process.js';
import { playScenario } from '../support/scenario-player.js';
import { storeEnv } from '../support/postgres.js';

const pdlWith = (env: Record<string, string>, ...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'pdl.js'), ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', ...env } });
const pdl = (...args: string[]) => pdlWith({}, ...args);
const without = ({ generatedAt: _g, ...rest }: any) => rest;

type Tenant = Awaited<ReturnType<typeof aTenant>>;
const answers = async (t: Tenant, dpo: Tenant['dpo']) => ({
  report: without((await dpo('GET', `${t.P}/subjects/visitor:b/report`)).json),
  ropa: without((await dpo('GET', `${t.P}/ropa`)).json),
  findings: (await dpo('GET', `${t.P}/findings?limit=1000`)).json,
  trail: (await dpo('GET', `${t.P}/events?limit=1000&subject=visitor:e`)).json,
  requests: (await dpo('GET', `${t.P}/subject-requests?at=2026-12-01T00:00:00Z`)).json,
  retention: (await dpo('GET', `${t.P}/retention?at=2026-06-01T00:00:00Z&limit=1000`)).json,
  // Keys destroyed by b's erasure, and e forgotten by `pdl forget`: the requests' tables, folded apart in a rebuild.
  erasure: without((await dpo('GET', `${t.P}/subjects/visitor:b/erasure`)).json),
  forgotten: without((await dpo('GET', `${t.P}/subjects/visitor:e/erasure`)).json),
});

describe('pdl rebuild', () => {
  it('refuses while the ledger runs, then rebuilds a stopped ledger\'s read models to the same answers', async () => {
    const first = await startLedger();
    const t = await aTenant(first);
    await playScenario(t);
    const busy = pdl('rebuild', '--data-dir', first.dataDir);
    expect(busy.status).not.toBe(0);
    expect(busy.stderr).toMatch(/in use|locked|another/i);
    await first.stop();
    const forgot = pdl('forget', 'visitor:e', '--tenant', scenario.tenant.id, '--data-dir', first.dataDir);
    expect([forgot.status, forgot.stderr]).toEqual([0, expect.any(String)]);
    const stopped = await startLedger({ dataDir: first.dataDir, adminToken: first.adminToken });
    let before: Awaited<ReturnType<typeof answers>>;
    try {
      before = await answers(t, client(stopped.base, t.tokens.dpo!));
    } finally {
      await stopped.stop();
    }
    expect(before.erasure.destroyed.length).toBeGreaterThan(0);
    expect(before.forgotten.destroyed.length).toBeGreaterThan(0);

    const done = pdl('rebuild', '--data-dir', first.dataDir);
    expect([done.status, done.stderr]).toEqual([0, expect.any(String)]);
    expect(done.stdout).toMatch(/rebuilt the read models from \d+ log entries/);

    const second = await startLedger({ dataDir: first.dataDir, adminToken: first.adminToken });
    try {
      const after = await answers(t, client(second.base, t.tokens.dpo!));
      expect(after).toEqual(before);
    } finally {
      await second.stop();
    }
  }, 60_000);

  it('on PostgreSQL, rebuilds beside the running ledger (its appends wait) to the same answers', async () => {
    const db = await storeEnv('postgres');
    const ledger = await startLedger({ env: db.env });
    try {
      const t = await aTenant(ledger);
      await playScenario(t);
      const before = await answers(t, t.dpo);
      const done = pdlWith(db.env, 'rebuild');
      expect([done.status, done.stderr]).toEqual([0, expect.any(String)]);
      expect(done.stdout).toMatch(/rebuilt the read models from \d+ log entries/);
      expect(await answers(t, t.dpo)).toEqual(before);
      // The refilled tables have statistics (the planner's), autovacuum or not.
      const c = new pg.Client({ connectionString: db.env.PDL_POSTGRES_URL });
      await c.connect();
      try {
        const { rows } = await c.query<{ relname: string }>("select relname from pg_stat_user_tables where schemaname = 'pdl' and relname in ('audit_events', 'cmp_subjects') and last_analyze is not null");
        expect(rows.map((r) => r.relname).sort()).toEqual(['audit_events', 'cmp_subjects']);
      } finally {
        await c.end();
      }
      // And the erasure tools work on it too, beside the ledger.
      const forgot = pdlWith(db.env, 'forget', 'visitor:e', '--tenant', scenario.tenant.id);
      expect([forgot.status, forgot.stderr]).toEqual([0, expect.any(String)]);
      expect((await t.dpo('GET', `${t.P}/subjects/visitor:e/erasure`)).json.destroyed.length).toBeGreaterThan(0);
    } finally {
      await ledger.stop();
      await db.drop();
    }
  }, 60_000);
});
