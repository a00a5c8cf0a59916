import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { verifyNote } from '../../src/integrity/domain/checkpoint.js';
import { verifyConsistency, verifyInclusion } from '../../src/integrity/domain/merkle.js';
import { aTenant, anEvent } from '../support/builders.js';
import { client, ROOT, startLedger, tempDir, type LedgerProcess } from '../support/ledger-process.js';

const pdl = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'pdl.js'), ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
const hex = (s: string) => Buffer.from(s, 'hex');

let ledger: LedgerProcess;
let t: Awaited<ReturnType<typeof aTenant>>;
const recorded: Array<{ eventId: string; position: number; hash: string }> = [];
let cp1: any;
let cp2: any;
const dir = tempDir('pdl-verify-');
const file = (name: string, content: string) => { const f = join(dir, name); writeFileSync(f, content); return f; };

async function record(n: number) {
  const r = await t.emitter('POST', `${t.P}/events`, { events: Array.from({ length: n }, () => anEvent()) });
  expect(r.status).toBe(200);
  recorded.push(...r.json.results);
}

beforeAll(async () => {
  ledger = await startLedger({ env: { PDL_CHECKPOINT_INTERVAL_MS: '0' } });
  t = await aTenant(ledger);
  await record(7);
  cp1 = (await t.auditor('GET', `${t.P}/checkpoints/latest`)).json;
  await record(13);
  await record(5);
  cp2 = (await t.auditor('GET', `${t.P}/checkpoints/latest`)).json;
});
afterAll(() => ledger.stop());

describe('proof that nothing was altered', () => {
  it('signs a checkpoint covering every committed entry, as a C2SP note the published key verifies', async () => {
    const size = recorded[recorded.length - 1]!.position + 1;
    expect(cp2).toMatchObject({ treeSize: size, origin: `pdl.local/${t.P.split('/').pop()}`, keyName: 'pdl.local' });
    expect(cp2.rootHash).toMatch(/^[0-9a-f]{64}$/);
    const keys = (await client(ledger.base)('GET', '/v1/keys')).json.items;
    expect(keys).toEqual([expect.objectContaining({ name: 'pdl.local', keyId: cp2.keyId, status: 'current' })]);
    expect(verifyNote(cp2.note, keys[0].name, Buffer.from(keys[0].publicKey, 'base64'))).toBe(true);
    expect(cp2.note.split('\n').slice(0, 3)).toEqual([cp2.origin, String(cp2.treeSize), hex(cp2.rootHash).toString('base64')]);
    // Asked again without new entries: the same checkpoint.
    expect((await t.dpo('GET', `${t.P}/checkpoints/latest`)).json).toEqual(cp2);
  });

  it('proves every event\'s inclusion at the latest size and at an earlier one', async () => {
    for (const e of recorded) {
      const p = (await t.auditor('GET', `${t.P}/events/${e.eventId}/proof?treeSize=${cp2.treeSize}`)).json;
      expect(p).toMatchObject({ leafIndex: e.position, treeSize: cp2.treeSize, leafHash: e.hash });
      expect(verifyInclusion(p.leafIndex, p.treeSize, hex(p.leafHash), p.auditPath.map(hex), hex(cp2.rootHash))).toBe(true);
    }
    const early = recorded[2]!;
    const p = (await t.emitter('GET', `${t.P}/events/${early.eventId}/proof?treeSize=${cp1.treeSize}`)).json;
    expect(verifyInclusion(p.leafIndex, cp1.treeSize, hex(p.leafHash), p.auditPath.map(hex), hex(cp1.rootHash))).toBe(true);
  });

  it('proves the later checkpoint extends the earlier one', async () => {
    const c = (await t.auditor('GET', `${t.P}/checkpoints/consistency?from=${cp1.treeSize}&to=${cp2.treeSize}`)).json;
    expect(c).toMatchObject({ from: cp1.treeSize, to: cp2.treeSize });
    expect(verifyConsistency(cp1.treeSize, cp2.treeSize, c.proof.map(hex), hex(cp1.rootHash), hex(cp2.rootHash))).toBe(true);
  });

  it('answers bad proof requests with precise problems', async () => {
    const cases: Array<[string, number]> = [
      [`${t.P}/events/${recorded[0]!.eventId}/proof?treeSize=${cp2.treeSize + 1}`, 400],
      [`${t.P}/events/${recorded[20]!.eventId}/proof?treeSize=3`, 400],
      [`${t.P}/events/${recorded[0]!.eventId}/proof?treeSize=0`, 400],
      [`${t.P}/events/not-a-uuid/proof`, 400],
      [`${t.P}/events/00000000-0000-4000-8000-000000000000/proof`, 404],
      [`${t.P}/checkpoints/consistency?from=0&to=3`, 400],
      [`${t.P}/checkpoints/consistency?from=5&to=3`, 400],
      [`${t.P}/checkpoints/consistency?to=3`, 400],
      [`${t.P}/log/export?to=${cp2.treeSize + 1}`, 400],
      [`${t.P}/log/export?from=x`, 400],
    ];
    for (const [path, status] of cases) {
      const r = await t.auditor('GET', path);
      expect([path, r.status, r.type]).toEqual([path, status, expect.stringContaining('application/problem+json')]);
    }
    expect((await client(ledger.base)('GET', `${t.P}/checkpoints/latest`)).status).toBe(401);
  });

  it('exports exactly the hashed bytes, which pdl verify checks offline with the checkpoint and the key', async () => {
    const exp = await t.auditor('GET', `${t.P}/log/export`);
    expect(exp.type).toContain('application/x-ndjson');
    const lines = exp.text.split('\n').slice(0, -1);
    expect(lines.length).toBe(cp2.treeSize);
    const keys = file('keys.json', (await client(ledger.base)('GET', '/v1/keys')).text);
    const log = file('log.ndjson', exp.text);
    const cp = file('cp.json', JSON.stringify(cp2));
    const old = file('cp1.json', JSON.stringify(cp1));
    const ok = pdl('verify', log, '--checkpoint', cp, '--key', keys, '--previous', old);
    expect([ok.status, ok.stdout]).toEqual([0, expect.stringContaining(`ok: ${cp2.treeSize} entries`)]);
    const keyed = (await client(ledger.base)('GET', '/v1/keys')).json.items[0];
    expect(pdl('verify', log, '--checkpoint', cp, '--key', keyed.publicKey).status).toBe(0);
    expect(pdl('verify', log, '--checkpoint', cp, '--key', keyed.verifierKey).status).toBe(0);
    const part = pdl('verify', file('part.ndjson', lines.slice(0, cp1.treeSize).join('\n') + '\n'), '--checkpoint', old);
    expect(part.status).toBe(0);

    const tampered = (name: string, change: (l: string[]) => string[]) => pdl('verify', file(name, change([...lines]).join('\n') + '\n'), '--checkpoint', cp, '--key', keys);
    const expectFailure = (r: ReturnType<typeof pdl>, position: number) => {
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`FAILED at position ${position}`);
    };
    const [k, m] = [recorded[3]!.position, recorded[9]!.position];
    expectFailure(tampered('changed.ndjson', (l) => { l[k] = l[k]!.replace('"occurredAt":"2026', '"occurredAt":"2025'); return l; }), k);
    expectFailure(tampered('removed.ndjson', (l) => l.filter((_, i) => i !== 8)), 8);
    expectFailure(tampered('inserted.ndjson', (l) => [...l.slice(0, m), l[m - 1]!, ...l.slice(m)]), m);
    expectFailure(tampered('swapped.ndjson', (l) => { [l[m], l[m + 1]] = [l[m + 1]!, l[m]!]; return l; }), m);
    expectFailure(tampered('truncated.ndjson', (l) => l.slice(0, -2)), cp2.treeSize - 2);
    expectFailure(tampered('last.ndjson', (l) => { l[l.length - 1] = l[l.length - 1]!.replace('"occurredAt":"2026', '"occurredAt":"2025'); return l; }), cp2.treeSize - 1);
    // A checkpoint whose JSON fields were edited, a note signed by another key, unusable inputs.
    expect(pdl('verify', log, '--checkpoint', file('edited.json', JSON.stringify({ ...cp2, treeSize: 3 }))).status).toBe(2);
    const otherKey = Buffer.alloc(32, 7).toString('base64');
    expect(pdl('verify', log, '--checkpoint', cp, '--key', otherKey)).toMatchObject({ status: 1, stderr: expect.stringContaining('does not verify') });
    expect(pdl('verify', join(dir, 'missing.ndjson'), '--checkpoint', cp).status).toBe(2);
  });

  it('keeps old checkpoints verifiable across a key rotation', async () => {
    expect((await client(ledger.base, t.tokens.admin)('POST', '/v1/keys/rotate')).status).toBe(403);
    const rotated = await client(ledger.base, ledger.adminToken)('POST', '/v1/keys/rotate');
    expect(rotated.status).toBe(201);
    await record(2);
    const cp3 = (await t.auditor('GET', `${t.P}/checkpoints/latest`)).json;
    expect(cp3.keyId).toBe(rotated.json.keyId);
    expect(cp3.keyId).not.toBe(cp2.keyId);
    const keys = (await client(ledger.base)('GET', '/v1/keys')).json.items;
    expect(keys.map((k: any) => k.status).sort()).toEqual(['current', 'retired']);
    const keyFile = file('keys2.json', JSON.stringify({ items: keys }));
    const exp = await t.auditor('GET', `${t.P}/log/export`);
    const log = file('log2.ndjson', exp.text);
    expect(pdl('verify', log, '--checkpoint', file('cp3.json', JSON.stringify(cp3)), '--key', keyFile, '--previous', file('cp2b.json', JSON.stringify(cp2))).status).toBe(0);
  });

  it('detects an entry edited in the store behind the ledger\'s back, and refuses to sign over a changed tree', async () => {
    await ledger.stop();
    expect(pdl('verify', '--data-dir', ledger.dataDir).status).toBe(0);
    const tenant = t.P.split('/').pop()!;
    expect(pdl('verify', '--data-dir', ledger.dataDir, '--tenant', tenant).stdout).toBe(`ok ${tenant}\n`);
    const unknown = pdl('verify', '--data-dir', ledger.dataDir, '--tenant', 'no-such-tenant');
    expect({ status: unknown.status, stdout: unknown.stdout, stderr: unknown.stderr.trim() }).toEqual({ status: 2, stdout: '', stderr: 'no tenant "no-such-tenant" in this ledger' });
    const db = new Database(join(ledger.dataDir, 'ledger.db'));
    const target = recorded[11]!;
    const row = db.prepare('select global_position as id, data from events where event_id = ?').get(target.eventId) as { id: number; data: Buffer };
    const edited = Buffer.from(row.data.toString().replace('"occurredAt":"2026', '"occurredAt":"2024'));
    expect(edited.equals(row.data)).toBe(false);
    expect(db.prepare('update events set data = ? where global_position = ?').run(edited, row.id).changes).toBe(1);
    db.close();
    const self = pdl('verify', '--data-dir', ledger.dataDir);
    expect(self.status).toBe(1);
    expect(self.stderr).toContain(`at position ${target.position}`);

    ledger = await startLedger({ dataDir: ledger.dataDir, adminToken: ledger.adminToken });
    const auditor = client(ledger.base, t.tokens.auditor);
    const exp = await auditor('GET', `${t.P}/log/export`);
    // What the export gave, in full, when it was not the entries before the edited one (a flake seen once).
    expect({ status: exp.status, lines: exp.text.split('\n').filter(Boolean).length, head: exp.status === 200 ? '' : exp.text.slice(0, 300) })
      .toEqual({ status: 200, lines: target.position, head: '' });
    const r = pdl('verify', file('after.ndjson', exp.text), '--checkpoint', join(dir, 'cp.json'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`at position (${target.position}|${target.position + 1})\\b`));
    await ledger.stop();

    // History rewritten with its tree rebuilt from the edited log (here: the tree dropped, so the ledger
    // rebuilds it at start): the ledger will not sign a checkpoint that does not extend its last one.
    const db2 = new Database(join(ledger.dataDir, 'ledger.db'));
    const no = db2.prepare('select id from merkle_streams where stream = ?').pluck().safeIntegers(true).get(`ledger-${t.P.split('/').pop()}`) as bigint;
    db2.prepare('delete from merkle_tree where node >= ? and node < ?').run(no << 40n, (no + 1n) << 40n);
    db2.close();
    ledger = await startLedger({ dataDir: ledger.dataDir, adminToken: ledger.adminToken });
    const emitter = client(ledger.base, t.tokens.emitter);
    expect((await emitter('POST', `${t.P}/events`, { events: [anEvent()] })).status).toBe(200);
    const refused = await client(ledger.base, t.tokens.auditor)('GET', `${t.P}/checkpoints/latest`);
    expect(refused.status).toBe(409);
    expect(refused.json.type).toContain('integrity-violation');
    const metrics = (await client(ledger.base)('GET', '/metrics')).text;
    expect(metrics).toMatch(/^pdl_checkpoints_refused_total [1-9]/m);
  });
});

describe('a signing key given by PDL_SIGNING_KEY', () => {
  it('signs with it, publishes it, and leaves its rotation to the operator', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { rawPublicKey, rawSeed } = await import('../../src/integrity/domain/checkpoint.js');
    const { privateKey } = generateKeyPairSync('ed25519');
    const other = await startLedger({ env: { PDL_SIGNING_KEY: rawSeed(privateKey).toString('hex'), PDL_LEDGER_NAME: 'ledger.example' } });
    try {
      const root = client(other.base, other.adminToken);
      await root('PUT', '/v1/tenants/keyed', { name: 'Keyed' });
      const keys = (await client(other.base)('GET', '/v1/keys')).json.items;
      expect(keys).toEqual([expect.objectContaining({ name: 'ledger.example', publicKey: rawPublicKey(privateKey).toString('base64'), status: 'current' })]);
      const cp = (await root('GET', '/v1/tenants/keyed/checkpoints/latest')).json;
      expect(cp.origin).toBe('ledger.example/keyed');
      expect(verifyNote(cp.note, 'ledger.example', rawPublicKey(privateKey))).toBe(true);
      const rotate = await root('POST', '/v1/keys/rotate');
      expect([rotate.status, rotate.json.type]).toEqual([409, expect.stringContaining('signing-key-from-environment')]);
    } finally {
      await other.stop();
    }
  });

  it('retires the key the data directory signed with until then, saying when, and forgets its private part', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { rawPublicKey, rawSeed } = await import('../../src/integrity/domain/checkpoint.js');
    let ledger = await startLedger();
    const before = (await client(ledger.base)('GET', '/v1/keys')).json.items;
    await ledger.stop();
    const { privateKey } = generateKeyPairSync('ed25519');
    const env = { PDL_SIGNING_KEY: rawSeed(privateKey).toString('hex') };
    ledger = await startLedger({ dataDir: ledger.dataDir, adminToken: ledger.adminToken, env });
    try {
      const keys = (await client(ledger.base)('GET', '/v1/keys')).json.items;
      expect(keys).toEqual([
        expect.objectContaining({ publicKey: rawPublicKey(privateKey).toString('base64'), status: 'current' }),
        { ...before[0], status: 'retired', retiredAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/) },
      ]);
      const file = JSON.parse(readFileSync(join(ledger.dataDir, 'signing-keys.json'), 'utf8'));
      expect(file.keys.filter((k: { seed?: string }) => k.seed)).toEqual([]);
      await ledger.stop();
      // Started again with the same key: the retirement stands as it was.
      ledger = await startLedger({ dataDir: ledger.dataDir, adminToken: ledger.adminToken, env });
      expect((await client(ledger.base)('GET', '/v1/keys')).json.items).toEqual(keys);
    } finally {
      await ledger.stop();
    }
  });
});
