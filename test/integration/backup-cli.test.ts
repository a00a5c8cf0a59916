import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aTenant, anEvent } from '../support/builders.js';
import { client, runPdl as pdl, startLedger, tempDir, type LedgerProcess } from '../support/ledger-process.js';

/** The whole audit trail of the tenant, in log order, as the dpo reads it. */
async function trail(ledger: LedgerProcess, token: string): Promise<any[]> {
  const items = [];
  for (let cursor = ''; ;) {
    const page = (await client(ledger.base, token)('GET', `/v1/tenants/chatbox/events?limit=1000${cursor}`)).json;
    items.push(...page.items);
    if (!page.nextCursor) return items;
    cursor = `&cursor=${encodeURIComponent(page.nextCursor)}`;
  }
}

describe('pdl backup', () => {
  it('copies a serving ledger under load into a data directory that verifies and serves the log as it was copied, identifiers included', async () => {
    const ledger = await startLedger();
    const out = join(tempDir('pdl-backup-'), 'copy');
    let restored: LedgerProcess | null = null;
    try {
      const t = await aTenant(ledger);
      const emitter = client(ledger.base, t.tokens.emitter);
      const early = anEvent({ subject: { id: 'visitor:early', identifiers: { email: 'early@example.org' } } });
      expect((await emitter('POST', `${t.P}/events`, { events: [early] })).status).toBe(200);
      // Appends go on, one batch after another, for as long as the copy is taken.
      let appending = true;
      const load = (async () => {
        for (let i = 0; appending; i++) {
          const r = await emitter('POST', `${t.P}/events`, { events: Array.from({ length: 50 }, (_, j) => anEvent({ subject: { id: `visitor:load-${i}-${j}`, identifiers: { ip: `10.9.${i % 250}.${j}` } } })) });
          expect(r.status).toBe(200);
        }
      })();
      await new Promise((r) => setTimeout(r, 300));
      const copy = await pdl(['backup', out, '--keys', out, '--data-dir', ledger.dataDir]);
      appending = false;
      await load;
      expect([copy.status, copy.stderr]).toEqual([0, '']);
      expect(copy.stdout).toContain('the copy verifies');

      // The copy: the log, its checkpoints and signing keys, the key store; never the master key or the admin token.
      expect(readdirSync(out).sort()).toEqual(['backup.json', 'checkpoints.db', 'keys.db', 'ledger.db', 'signing-keys.json']);
      for (const f of readdirSync(out)) expect(statSync(join(out, f)).mode & 0o077).toBe(0);
      const manifest = JSON.parse(readFileSync(join(out, 'backup.json'), 'utf8'));
      const copied = manifest.tenants.find((x: { tenant: string }) => x.tenant === 'chatbox');
      const original = await trail(ledger, t.tokens.auditor);

      // Restored: the operator puts the master key beside it and starts a ledger on it.
      copyFileSync(join(ledger.dataDir, 'master.key'), join(out, 'master.key'));
      restored = await startLedger({ dataDir: out, adminToken: ledger.adminToken });
      // The restored log is the one the manifest describes: its size and root (signed on demand, before
      // any read of identifiers adds an entry).
      const head = (await client(restored.base, t.tokens.auditor)('GET', `${t.P}/checkpoints/latest`)).json;
      expect([head.treeSize, head.rootHash]).toEqual([copied.treeSize, copied.rootHash]);
      // Every event of the copy is the original's, at the same position, with the same hash; the load went
      // on after the copy was taken, so the copy is a proper prefix of the original.
      const back = await trail(restored, t.tokens.auditor);
      expect(back.length).toBeGreaterThan(1);
      expect(back.length).toBeLessThan(original.length);
      expect(back).toEqual(original.slice(0, back.length));
      // Identifiers open with the copied keys, and the blind index finds their subject.
      const dpo = client(restored.base, t.tokens.dpo);
      expect((await dpo('GET', `${t.P}/events?subject=visitor:early`)).json.items[0].event.subject.identifiers).toEqual({ email: 'early@example.org' });
      const loaded = back[back.length - 1].event.subject.id;
      expect((await dpo('GET', `${t.P}/events?subject=${encodeURIComponent(loaded)}`)).json.items[0].event.subject.identifiers.ip).toMatch(/^10\.9\./);
      const found = await dpo('GET', `${t.P}/subjects?identifier=${encodeURIComponent('email:early@example.org')}`);
      expect(found.json.items.map((s: { subject: { id: string } }) => s.subject.id)).toEqual(['visitor:early']);
      // It goes on from the copy's end.
      const next = await client(restored.base, t.tokens.emitter)('POST', `${t.P}/events`, { events: [anEvent()] });
      expect(next.status).toBe(200);
      expect(next.json.results[0].position).toBeGreaterThanOrEqual(copied.treeSize);
    } finally {
      await restored?.stop();
      await ledger.stop();
    }
  }, 120_000);

  it('never writes over anything, copies the keys only when asked, and copies nothing of a directory that holds no ledger', async () => {
    const ledger = await startLedger();
    try {
      await aTenant(ledger);
      const root = tempDir('pdl-backup-');
      const busy = join(root, 'busy');
      mkdirSync(busy);
      writeFileSync(join(busy, 'notes.txt'), 'mine');
      const refused = await pdl(['backup', busy, '--data-dir', ledger.dataDir]);
      expect([refused.status, refused.stderr]).toEqual([2, expect.stringContaining('is not empty')]);
      expect(readdirSync(busy)).toEqual(['notes.txt']);

      const logOnly = join(root, 'log-only');
      const keysApart = join(root, 'keys-apart');
      const r = await pdl(['backup', logOnly, '--data-dir', ledger.dataDir]);
      expect([r.status, r.stdout]).toEqual([0, expect.stringContaining('keys.db was not copied')]);
      expect(existsSync(join(logOnly, 'keys.db'))).toBe(false);
      const apart = await pdl(['backup', join(root, 'log'), '--keys', keysApart, '--data-dir', ledger.dataDir]);
      expect(apart.status).toBe(0);
      expect(readdirSync(keysApart)).toEqual(['keys.db']);
      expect(JSON.parse(readFileSync(join(root, 'log', 'backup.json'), 'utf8')).keys).toBe('copied apart');
      // A log-only copy verifies as a data directory on its own.
      expect((await pdl(['verify', '--data-dir', logOnly])).status).toBe(0);
      // A backup checked as a backup: every file byte for byte, then its log.
      const whole = await pdl(['verify', '--backup', join(root, 'log'), '--keys', keysApart]);
      expect([whole.status, whole.stdout]).toEqual([0, expect.stringContaining('ok keys.db')]);
      expect(whole.stdout).toMatch(/the backup taken \S+ is intact/);
      expect((await pdl(['verify', '--backup', join(root, 'log')])).stdout).toContain('not checked: keys.db (taken apart');
      appendFileSync(join(keysApart, 'keys.db'), Buffer.from([0]));
      const rotten = await pdl(['verify', '--backup', join(root, 'log'), '--keys', keysApart]);
      expect([rotten.status, rotten.stderr]).toEqual([1, expect.stringContaining('FAILED keys.db: differs from the backup')]);
      expect((await pdl(['verify', '--backup', ledger.dataDir])).status).toBe(2);

      const nothing = await pdl(['backup', join(root, 'from-nothing'), '--data-dir', tempDir()]);
      expect([nothing.status, nothing.stderr]).toEqual([2, expect.stringContaining('holds no ledger')]);
      expect(existsSync(join(root, 'from-nothing'))).toBe(false);
    } finally {
      await ledger.stop();
    }
  }, 60_000);
});
