import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { aTenant } from '../support/builders.js';
import { client, ROOT, startLedger, tempDir, type LedgerProcess } from '../support/ledger-process.js';
import { playScenario } from '../support/scenario-player.js';
import { aad, open } from '../../src/keys/domain/sealing.js';
import { loadMasterKey, parse } from '../../src/keys/master-key.js';
import { IdentifierVault } from '../../src/keys/application/identifier-vault.js';
import { LedgerWriter } from '../../src/ledger/application/ledger-writer.js';
import { decodeAppendBody } from '../../src/ledger/domain/processing-event.js';
import { openEmbeddedStorage } from '../../src/storage/embedded-storage.js';
import { leafHash } from '../../src/ledger/domain/canonical.js';

/** Forgetting inside an immutable log, on the reference story, against the started ledger. */
const pdl = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'pdl.js'), ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
const IP_A = '203.0.113.7', IP_B = '198.51.100.23', EMAIL_B = 'b@example.org', IP_C = '192.0.2.50', IP_D = '203.0.113.99';
const enc = encodeURIComponent;

let ledger: LedgerProcess;
let t: Awaited<ReturnType<typeof aTenant>>;
let dataDir: string;
let wrappedEmailB: Buffer;
let rawEmailB: Buffer;
const look = async (v: string) => (await t.dpo('GET', `${t.P}/subjects?identifier=${enc(v)}`)).json.items.map((x: any) => x.subject.id);
const keysOf = (subject: string, category: string) => {
  const db = new Database(join(dataDir, 'keys.db'), { readonly: true });
  try { return db.prepare('select wrapped from data_keys where subject = ? and category = ?').pluck().all(subject, category) as Buffer[]; } finally { db.close(); }
};
const restart = async () => {
  await ledger.stop();
  ledger = await startLedger({ dataDir, adminToken: ledger.adminToken });
  t = { ...t, dpo: client(ledger.base, t.tokens.dpo!), auditor: client(ledger.base, t.tokens.auditor!), legal: client(ledger.base, t.tokens.legal!) };
};

/** Writes to the stopped ledger's store straight through a writer of this process: what the server would not do by itself. */
async function withStoppedLedger(work: (writer: LedgerWriter) => Promise<void>) {
  const s = openEmbeddedStorage(dataDir, loadMasterKey(undefined, dataDir).master, { writes: 'in-thread' });
  const writer = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
  try {
    await work(writer);
  } finally {
    await writer.drain();
    await s.close();
  }
}

beforeAll(async () => {
  dataDir = tempDir();
  ledger = await startLedger({ dataDir });
  t = await aTenant(ledger);
  await playScenario(t, (step) => {
    // Just before b's plugins erasure, keep the wrapped e-mail key, to look for its bytes afterwards.
    if (step.event?.eventId === '9b49c324-6f70-476d-a998-140967819826') {
      [wrappedEmailB] = keysOf('visitor:b', 'user.contact.email') as [Buffer];
      const master = parse(readFileSync(join(dataDir, 'master.key'), 'utf8'))!;
      const db = new Database(join(dataDir, 'keys.db'), { readonly: true });
      const generation = db.prepare("select generation from data_keys where subject = 'visitor:b' and category = 'user.contact.email'").pluck().get() as number;
      db.close();
      rawEmailB = open(master, wrappedEmailB.toString('base64url'), aad.dataKey(t.P.split('/').pop()!, 'visitor:b', 'user.contact.email', generation))!;
      expect(rawEmailB.length).toBe(32);
    }
  });
}, 60_000);
afterAll(() => ledger.stop());

describe('forgetting', () => {
  it('destroys a key once its category is erased everywhere: lookups find nothing, answers show [erased], history stays', async () => {
    expect(await look(`ip:${IP_A}`)).toEqual([]);
    expect(keysOf('visitor:a', 'user.device.ip_address')).toEqual([]);
    const a = await t.dpo('GET', `${t.P}/subjects/visitor:a/report`);
    expect(a.text).not.toContain(IP_A);
    expect(a.json.subject.identifiers).toEqual([expect.objectContaining({ kind: 'ip', value: '[erased]' })]);
    expect(a.json.history.length).toBe(4);
    const trail = await t.dpo('GET', `${t.P}/events?subject=visitor:a`);
    expect(trail.text).not.toContain(IP_A);
    expect(trail.json.items[0].event.subject.identifiers).toEqual({ ip: '[erased]' });
  });

  it('forgets b\'s e-mail when the erasure request completes, keeps the IP under its legal hold, and says so', async () => {
    expect(await look(`email:${EMAIL_B}`)).toEqual([]);
    expect(await look(`ip:${IP_B}`)).toEqual(['visitor:b']);
    const report = await t.dpo('GET', `${t.P}/subjects/visitor:b/report`);
    expect(report.text).not.toContain(EMAIL_B);
    expect(report.text).toContain(IP_B);
    const cert = await t.auditor('GET', `${t.P}/subjects/visitor:b/erasure`);
    expect(cert.status).toBe(200);
    // Keys exist for what was sealed: b's identifiers (an e-mail and an IP).
    expect(cert.json.destroyed).toEqual([expect.objectContaining({ category: 'user.contact.email', reason: 'erased-everywhere' })]);
    expect(cert.json.held).toEqual([{ category: 'user.device.ip_address', until: '2027-01-10T10:05:00Z', purpose: 'ip-logging-law', legalBasis: 'FR LCEN art. 6-II; decree 2011-219' }]);
    expect(cert.text).not.toContain(EMAIL_B);
    // The fact is in the log, with no key material, and provable.
    const proof = await t.auditor('GET', `${t.P}/events/${cert.json.destroyed[0].eventId}/proof?treeSize=${(await t.auditor('GET', `${t.P}/checkpoints/latest`)).json.treeSize}`);
    expect(proof.status).toBe(200);
    expect((await t.emitter('GET', `${t.P}/subjects/visitor:b/erasure`)).status).toBe(403);
  });

  it('keeps an IP erased from its system too early while the law requires it', async () => {
    expect(await look(`ip:${IP_C}`)).toEqual(['visitor:c']);
    expect((await t.dpo('GET', `${t.P}/subjects/visitor:c/erasure`)).json.held).toEqual([expect.objectContaining({ category: 'user.device.ip_address', until: '2027-02-01T09:00:00Z' })]);
  });

  it('destroys held keys once the hold ends (pdl retention enforce --at), and proofs still verify before and after', async () => {
    const cp1 = (await t.auditor('GET', `${t.P}/checkpoints/latest`)).json;
    const keys = JSON.stringify((await client(ledger.base, t.tokens.auditor!)('GET', '/v1/keys')).json);
    const dir = tempDir();
    writeFileSync(join(dir, 'keys.json'), keys);
    writeFileSync(join(dir, 'cp1.json'), JSON.stringify(cp1));
    await ledger.stop();
    const early = pdl('retention', 'enforce', '--at', '2026-12-31T00:00:00Z', '--data-dir', dataDir);
    expect([early.status, early.stdout]).toEqual([0, expect.stringContaining('destroyed 0 keys')]);
    const late = pdl('retention', 'enforce', '--at', '2027-02-02T00:00:00Z', '--data-dir', dataDir);
    expect([late.status, late.stdout]).toEqual([0, expect.stringContaining('destroyed 2 keys')]);
    await restart();
    expect(await look(`ip:${IP_B}`)).toEqual([]);
    expect(await look(`ip:${IP_C}`)).toEqual([]);
    expect(await look(`ip:${IP_D}`)).toEqual(['visitor:d']);
    const b = await t.dpo('GET', `${t.P}/subjects/visitor:b/report`);
    expect(b.text).not.toContain(IP_B);
    expect((await t.dpo('GET', `${t.P}/subjects/visitor:b/erasure`)).json).toMatchObject({ held: [], live: [] });
    const cp2 = (await t.auditor('GET', `${t.P}/checkpoints/latest`)).json;
    writeFileSync(join(dir, 'cp2.json'), JSON.stringify(cp2));
    writeFileSync(join(dir, 'log.ndjson'), (await t.auditor('GET', `${t.P}/log/export`)).text);
    const v = pdl('verify', join(dir, 'log.ndjson'), '--checkpoint', join(dir, 'cp2.json'), '--previous', join(dir, 'cp1.json'), '--key', join(dir, 'keys.json'));
    expect([v.status, v.stderr]).toEqual([0, '']);
  }, 60_000);

  it('leaves neither the erased values nor the destroyed key bytes in any file of the data directory', async () => {
    await ledger.stop();
    const files = readdirSync(dataDir).map((f) => join(dataDir, f));
    expect(files.some((f) => f.endsWith('keys.db'))).toBe(true);
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const value of [IP_A, IP_B, EMAIL_B, IP_C]) expect([f, bytes.includes(Buffer.from(value))]).toEqual([f, false]);
      expect([f, bytes.includes(wrappedEmailB), bytes.includes(rawEmailB)]).toEqual([f, false, false]);
    }
    const check = pdl('verify', '--data-dir', dataDir);
    expect([check.status, check.stderr]).toEqual([0, '']);
    await restart();
  });

  it('finishes at start-up a shredding a crash interrupted after its fact was recorded', async () => {
    await ledger.stop();
    // A `key-destroyed` fact for d's IP committed, and the process gone before destroying the key.
    await withStoppedLedger(async (writer) => {
      const r = await writer.appendFacts(t.P.split('/').pop()!, [{ type: 'key-destroyed', eventId: randomUUID(), actor: { type: 'ledger', id: 'retention' }, shred: { subject: 'visitor:d', category: 'user.device.ip_address', reason: 'subject-forgotten' } } as never]);
      expect(r._tag).toBe('Right');
    });
    expect(keysOf('visitor:d', 'user.device.ip_address').length).toBe(1);
    await restart();
    expect(keysOf('visitor:d', 'user.device.ip_address')).toEqual([]);
    expect(await look(`ip:${IP_D}`)).toEqual([]);
  });

  it('shreds at start-up an erasure recorded while its shredding did not run', async () => {
    await ledger.stop();
    const ev = (type: string, extra: object) => ({ eventId: randomUUID(), type, subject: { id: 'visitor:x', ...extra }, categories: ['user.device.ip_address'], purpose: 'visitor-session', system: 'core', occurredAt: '2026-05-01T10:00:00Z' });
    // Recorded straight through the writer: the erasure is in the log, its shredding never ran.
    const events = decodeAppendBody({ events: [ev('collected', { identifiers: { ip: '10.9.9.9' } }), { ...ev('erased', {}), occurredAt: '2026-05-01T10:10:00Z', details: { reason: 'retention' } }] });
    await withStoppedLedger(async (writer) => expect(events._tag === 'Right' && (await writer.record(t.P.split('/').pop()!, events.right))._tag).toBe('Right'));
    expect(keysOf('visitor:x', 'user.device.ip_address').length).toBe(1);
    await restart();
    for (let i = 0; i < 50 && keysOf('visitor:x', 'user.device.ip_address').length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(keysOf('visitor:x', 'user.device.ip_address')).toEqual([]);
    expect(await look('ip:10.9.9.9')).toEqual([]);
  });

  it('keeps how far it swept the erasures (with the entry\'s hash there), and sweeps from the start when that mark does not match the log', async () => {
    const tenant = t.P.split('/').pop()!;
    const mark = () => {
      const db = new Database(join(dataDir, 'keys.db'), { readonly: true });
      try { return db.prepare("select position, hash from log_marks where tenant = ? and kind = 'erasure-sweep'").get(tenant) as { position: number; hash: string } | undefined; } finally { db.close(); }
    };
    const leafAt = (position: number) => {
      const db = new Database(join(dataDir, 'ledger.db'), { readonly: true });
      try { return leafHash(db.prepare('select data from events where stream = ? and revision = ?').pluck().get(`ledger-${tenant}`, position) as Buffer).toString('hex'); } finally { db.close(); }
    };
    const lastErasure = (await t.auditor('GET', `${t.P}/events?type=erased&limit=1000`)).json.items.at(-1).position as number;
    for (let i = 0; i < 50 && (mark()?.position ?? -1) < lastErasure; i++) await new Promise((r) => setTimeout(r, 100));
    const kept = mark()!;
    expect(kept.position).toBeGreaterThanOrEqual(lastErasure);
    expect(kept.hash).toBe(leafAt(kept.position));
    await ledger.stop();
    const db = new Database(join(dataDir, 'keys.db'));
    db.prepare("update log_marks set hash = ? where tenant = ? and kind = 'erasure-sweep'").run('00'.repeat(32), tenant);
    db.close();
    await restart();
    for (let i = 0; i < 50 && mark()?.hash !== kept.hash; i++) await new Promise((r) => setTimeout(r, 100));
    expect(mark()).toEqual(kept);
    expect(ledger.output()).toContain('the stored erasure sweep mark does not match the log');
  });

  it('forgets a subject as a whole with pdl forget, except what a legal hold keeps', async () => {
    await ledger.stop();
    const entries = () => { const db = new Database(join(dataDir, 'ledger.db'), { readonly: true }); try { return db.prepare('select count(*) from events').pluck().get(); } finally { db.close(); } };
    const before = entries();
    const typo = pdl('forget', 'visitor:ee', '--tenant', t.P.split('/').pop()!, '--data-dir', dataDir);
    expect([typo.status, typo.stderr.trim()]).toEqual([2, `pdl: nothing was recorded about a subject "visitor:ee" in tenant "${t.P.split('/').pop()}": nothing to forget, and nothing recorded`]);
    expect(entries()).toBe(before);
    const f = pdl('forget', 'visitor:e', '--tenant', t.P.split('/').pop()!, '--reason', 'asked by phone', '--data-dir', dataDir);
    expect([f.status, f.stdout]).toEqual([0, expect.stringContaining('destroyed the keys of user.device.ip_address')]);
    await restart();
    const cert = (await t.dpo('GET', `${t.P}/subjects/visitor:e/erasure`)).json;
    expect(cert.destroyed).toEqual([expect.objectContaining({ category: 'user.device.ip_address', reason: 'subject-forgotten' })]);
    expect(await look('ip:198.51.100.200')).toEqual([]);
  });
});
