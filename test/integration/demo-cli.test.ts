import { client, runPdl as pdl, startLedger, tempDir } from '../support/ledger-process.js';
import { demoVisitors } from '../../src/demo/story.js';

describe('pdl demo', () => {
  it('tells the story into the embedded ledger and says what to open, which then answers', async () => {
    const dataDir = tempDir();
    const r = await pdl(['demo', '--visitors', '300'], { PDL_DATA_DIR: dataDir });
    expect([r.status, r.stderr.slice(-300)]).toEqual([0, expect.any(String)]);
    // Told as it is made, a visitor at a time: every event of the story once, none lost or repeated.
    const story = demoVisitors(300, 1);
    const events = story.reduce((n, v) => n + v.events.length + v.flow.reduce((m, s) => m + ('events' in s ? s.events.length : 0), 0), 0);
    const requests = story.filter((v) => v.flow[0] && 'call' in v.flow[0]).length;
    expect(requests).toBeGreaterThan(0);
    expect(r.stdout).toContain(`Told the chat-box story: 301 visitors, ${events} events and ${requests} requests`);
    expect(r.stdout).toMatch(/Findings raised: \d+ \(.*consent-missing|Findings raised: \d+ \(.*category-not-declared/);
    const dpo = /dpo=(\S+)/.exec(r.stdout)![1]!;
    const reportPath = /'http:\/\/localhost:3000(\/v1\/tenants\/chatbox\/subjects\/[^']+report\?format=html)'/.exec(r.stdout)![1]!;
    const ledger = await startLedger({ dataDir });
    try {
      const page = await client(ledger.base, dpo)('GET', reportPath);
      expect([page.status, page.type]).toEqual([200, expect.stringContaining('text/html')]);
      const ropa = await client(ledger.base, dpo)('GET', '/v1/tenants/chatbox/ropa');
      expect(ropa.json.purposes.reduce((n: number, p: any) => n + p.subjectsCount, 0)).toBeGreaterThan(300);
      expect(JSON.stringify(ropa.json.undeclared)).toContain('ai-training');
    } finally {
      await ledger.stop();
    }
  }, 120_000);

  it('tells it into a running ledger, and refuses a tenant that already holds events', async () => {
    const ledger = await startLedger();
    try {
      const first = await pdl(['demo', '--visitors', '50', '--tenant', 'shop', '--url', ledger.base], { PDL_ADMIN_TOKEN: ledger.adminToken });
      expect([first.status, first.stderr.slice(-300)]).toEqual([0, expect.any(String)]);
      expect(first.stdout).toContain(`${ledger.base}/v1/tenants/shop/ropa?format=html`);
      const again = await pdl(['demo', '--visitors', '50', '--tenant', 'shop', '--url', ledger.base], { PDL_ADMIN_TOKEN: ledger.adminToken });
      expect(again.status).toBe(2);
      expect(again.stderr).toContain('already holds events');
      const bad = await pdl(['demo', '--visitors', 'many'], {});
      expect([bad.status, bad.stderr]).toEqual([2, expect.stringContaining('--visitors')]);
      // A wrong admin token is named by the problem's own words; the served data directory, with the way to reach its ledger.
      const wrong = await pdl(['demo', '--visitors', '5', '--tenant', 'shop2', '--url', ledger.base], { PDL_ADMIN_TOKEN: 'not-the-admin-token-at-all' });
      expect([wrong.status, wrong.stderr.trim()]).toEqual([2, 'pdl: could not create the tenant: 401 Authentication required: Send a valid token as "Authorization: Bearer <token>".']);
      const served = await pdl(['demo', '--visitors', '5'], { PDL_DATA_DIR: ledger.dataDir });
      expect([served.status, served.stderr.trim()]).toEqual([2, `pdl: another ledger process is already serving the data directory ${ledger.dataDir}: stop it, or send to it with --url http://<its host>:<its port>`]);
    } finally {
      await ledger.stop();
    }
  }, 120_000);
});
