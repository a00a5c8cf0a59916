import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import pg from 'pg';
import { MemoryTree } from '../../src/integrity/domain/merkle.js';
import { leafHash } from '../../src/ledger/domain/canonical.js';
import { aTenant, anEvent } from '../support/builders.js';
import { client, freePort, ROOT, startLedger } from '../support/ledger-process.js';
import { freshDatabase, PG_URL, storeEnv } from '../support/postgres.js';
import { auth, ledgerService, toProto } from '../support/grpc.js';
import { relay } from '../support/relay.js';

/** A ledger on a fresh PostgreSQL database reached through a relay (`params` added to its URL). */
async function ledgerThroughRelay(params: Record<string, string> = {}) {
  const db = await storeEnv('postgres');
  const through = await relay(new URL(PG_URL));
  const url = new URL(db.env.PDL_POSTGRES_URL!);
  url.port = String(through.port);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return { db, through, ledger: await startLedger({ env: { ...db.env, PDL_POSTGRES_URL: url.toString() } }) };
}

/** The tenant's exported log entries, expected at positions 0, 1, 2, … without a gap. */
async function gapFreeLog(t: Awaited<ReturnType<typeof aTenant>>): Promise<Array<{ position: number; eventId: string }>> {
  const entries = (await t.auditor('GET', `${t.P}/log/export`)).text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  expect(entries.map((e) => e.position)).toEqual(entries.map((_, i) => i));
  return entries;
}

/** `/health`'s status once it is 200, or after 10 s of asking. */
async function healthAgain(base: string): Promise<number> {
  let health = 0;
  for (let i = 0; i < 100 && health !== 200; i++) {
    health = (await client(base)('GET', '/health')).status;
    if (health !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  return health;
}

describe('two ledger processes on one PostgreSQL', () => {
  it('append concurrently into one gap-free, verifiable log; duplicates are known to both; each event is folded once', async () => {
    const db = await storeEnv('postgres');
    const a = await startLedger({ env: db.env });
    const b = await startLedger({ env: db.env });
    try {
      const t = await aTenant(a);
      const emitters = [client(a.base, t.tokens.emitter!), client(b.base, t.tokens.emitter!)];
      const acked: Array<ReturnType<typeof anEvent>> = [];
      let refused = 0;
      let stop = false;
      // Four clients, two on each process; subjects shared across processes, so their keys are raced for too.
      const worker = async (w: number) => {
        for (let k = 0; !stop; k++) {
          const batch = Array.from({ length: 10 }, (_, i) => anEvent({ subject: { id: `visitor:shared-${(k + i) % 7}`, identifiers: { ip: `198.51.100.${w}` } },
            ...((k + i) % 3 === 0 ? { type: 'used', purpose: 'chat', details: { operation: 'reply' } } : {}), ...((k + w + i) % 5 === 0 ? { purpose: 'chat' } : {}) }));
          const r = await emitters[w % 2]!('POST', `${t.P}/events`, { events: batch });
          if (r.status === 200) acked.push(...batch);
          else refused++;
        }
      };
      const workers = [0, 1, 2, 3].map(worker);
      await new Promise((r) => setTimeout(r, 3000));
      stop = true;
      await Promise.all(workers);
      expect(refused).toBe(0);
      expect(acked.length).toBeGreaterThan(100);

      // One violation, sent to a, repeated through b: recognised as a duplicate there, with the same findings, raised once.
      const bad = anEvent({ purpose: 'never-declared' });
      const first = await emitters[0]!('POST', `${t.P}/events`, { events: [bad] });
      const again = await emitters[1]!('POST', `${t.P}/events`, { events: [bad] });
      expect(again.json.results[0]).toMatchObject({ status: 'duplicate', position: first.json.results[0].position, findings: first.json.results[0].findings });
      // Filtered by the violation's own subject: the load above raises more than a page of findings of this code.
      const findings = (await t.dpo('GET', `${t.P}/findings?code=purpose-undeclared&subject=${encodeURIComponent(bad.subject.id)}`)).json.items;
      expect(findings.map((f: any) => f.eventId)).toEqual([bad.eventId]);

      // Every acknowledged event is a duplicate for the other process.
      for (let i = 0; i < acked.length; i += 500) {
        const r = await emitters[1]!('POST', `${t.P}/events`, { events: acked.slice(i, i + 500) });
        expect(r.json.results.every((x: any) => x.status === 'duplicate')).toBe(true);
      }
      // One log: gap-free positions, every event once, the root of a checkpoint signed by either process.
      const exported = (await client(b.base, t.tokens.auditor!)('GET', `${t.P}/log/export`)).text.split('\n').filter(Boolean);
      const entries = exported.map((l) => JSON.parse(l));
      expect(entries.map((e) => e.position)).toEqual(entries.map((_, i) => i));
      const ids = entries.map((e) => e.eventId);
      expect(new Set(ids).size).toBe(ids.length);
      for (const e of acked) expect(ids).toContain(e.eventId);
      const cp = (await t.auditor('GET', `${t.P}/checkpoints/latest`)).json;
      const tree = new MemoryTree();
      for (const l of exported.slice(0, cp.treeSize)) tree.push(leafHash(Buffer.from(l)));
      expect(tree.root().toString('hex')).toBe(cp.rootHash);
      // The trail's facet index, written by both processes' commits: a filtered trail, page after page, is the log filtered.
      const wanted = entries.filter((e) => e.type === 'used' && e.purpose === 'chat').map((e) => e.position);
      expect(wanted.length).toBeGreaterThan(10);
      for (const ledger of [a, b]) {
        const got: number[] = [];
        for (let cursor = ''; ;) {
          const page = (await client(ledger.base, t.tokens.auditor!)('GET', `${t.P}/events?purpose=chat&type=used&limit=97${cursor}`)).json;
          got.push(...page.items.map((x: any) => x.position));
          if (!page.nextCursor) break;
          cursor = `&cursor=${page.nextCursor}`;
        }
        expect(got).toEqual(wanted);
      }
      // Both publish the same signing key, so either's checkpoint verifies with the keys of the other.
      expect((await client(a.base)('GET', '/v1/keys')).json).toEqual((await client(b.base)('GET', '/v1/keys')).json);

      // Tokens are read per request (grouped when they arrive together): many requests at once, each
      // with its own token, each get that token's role; a token revoked through a is refused by b from
      // the revocation's answer on.
      const byRole = [['dpo', 200], ['auditor', 200], ['legal', 200], ['emitter', 403], ['nobody', 401]] as const;
      const statuses = await Promise.all([a, b].flatMap((l) => byRole.flatMap(([role]) => Array.from({ length: 12 }, () =>
        client(l.base, t.tokens[role] ?? 'pdl_not-a-token')('GET', `${t.P}/events?limit=1`).then((r) => r.status)))));
      expect(statuses).toEqual([a, b].flatMap(() => byRole.flatMap(([, status]) => Array(12).fill(status))));
      const issued = (await client(a.base, t.tokens.admin!)('POST', `${t.P}/tokens`, { role: 'auditor' })).json;
      expect((await client(b.base, issued.token)('GET', `${t.P}/events?limit=1`)).status).toBe(200);
      expect((await client(a.base, t.tokens.admin!)('DELETE', `${t.P}/tokens/${issued.id}`)).status).toBe(204);
      expect((await client(b.base, issued.token)('GET', `${t.P}/events?limit=1`)).status).toBe(401);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await db.drop();
    }
  }, 120_000);
});

describe('the EventStoreDB backend without its cluster', () => {
  it('starts, says it is unhealthy, and refuses appends with 503 problem+json, recording nothing', async () => {
    const db = await storeEnv('postgres');
    const closed = await freePort();
    const ledger = await startLedger({ env: { PDL_STORE: 'eventstoredb', PDL_ESDB_URL: `esdb://127.0.0.1:${closed}?tls=false`, PDL_POSTGRES_URL: db.env.PDL_POSTGRES_URL! }, upWhen: (status) => status === 503 });
    try {
      const health = await client(ledger.base)('GET', '/health');
      expect(health.status).toBe(503);
      const admin = client(ledger.base, ledger.adminToken);
      const put = await admin('PUT', `/v1/tenants/t-${randomUUID().slice(0, 8)}`, { name: 'Acme' });
      expect(put.status).toBe(503);
      expect(put.type).toContain('application/problem+json');
      expect(put.json.detail).toMatch(/Nothing of this request was recorded/);
      expect(put.headers['retry-after']).toBe('2');
      expect(ledger.output()).not.toMatch(/"level":50/);
      // It stops promptly though the cluster never answered.
      const stopping = Date.now();
      await ledger.stop();
      expect(Date.now() - stopping).toBeLessThan(15_000);
    } finally {
      await ledger.stop();
      await db.drop();
    }
  }, 60_000);
});

describe('a PostgreSQL log altered behind the ledger\'s back', () => {
  it('is exported only up to the altered entry, and no checkpoint is signed over a tree rebuilt from it', async () => {
    const db = await storeEnv('postgres');
    const ledger = await startLedger({ env: { ...db.env, PDL_CHECKPOINT_INTERVAL_MS: '0' } });
    const sql = new pg.Client({ connectionString: db.env.PDL_POSTGRES_URL });
    await sql.connect();
    try {
      const t = await aTenant(ledger);
      const r = await t.emitter('POST', `${t.P}/events`, { events: Array.from({ length: 12 }, () => anEvent()) });
      expect(r.status).toBe(200);
      const cp = (await t.auditor('GET', `${t.P}/checkpoints/latest`)).json;
      const target = r.json.results[5];
      const edited = await sql.query(`update pdl.events set data = convert_to(replace(convert_from(data, 'UTF8'), '"occurredAt":"2026', '"occurredAt":"2024'), 'UTF8')
        where event_id = $1`, [target.eventId]);
      expect(edited.rowCount).toBe(1);
      // The export checks every entry against its leaf hash and stops before the altered one.
      const exported = (await t.auditor('GET', `${t.P}/log/export`)).text.split('\n').filter(Boolean);
      expect(exported).toHaveLength(target.position);
      // Said in the ledger's log (read from its stdout, which may arrive after the answer).
      for (let i = 0; i < 50 && !/a stored entry differs from its leaf hash/.test(ledger.output()); i++) await new Promise((r) => setTimeout(r, 100));
      expect(ledger.output()).toMatch(/a stored entry differs from its leaf hash/);
      // History rewritten, tree included (the read models refolded from the edited log): refused.
      const rebuilt = spawnSync(process.execPath, [join(ROOT, 'bin', 'pdl.js'), 'rebuild'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', ...db.env } });
      expect(rebuilt.status).toBe(0);
      expect((await t.emitter('POST', `${t.P}/events`, { events: [anEvent()] })).status).toBe(200);
      const refused = await t.auditor('GET', `${t.P}/checkpoints/latest`);
      expect([refused.status, refused.json.type]).toEqual([409, expect.stringContaining('integrity-violation')]);
      expect(cp.treeSize).toBeGreaterThan(target.position);
    } finally {
      await sql.end();
      await ledger.stop();
      await db.drop();
    }
  }, 60_000);
});

describe('PostgreSQL lost under a running ledger', () => {
  it('answers 503 store-unavailable (HTTP) and UNAVAILABLE (gRPC) while it is gone, recording nothing, and carries on when it is back', async () => {
    const { db, through, ledger } = await ledgerThroughRelay({ connect_timeout: '2' });
    const Ledger = ledgerService();
    const g = new Ledger(`127.0.0.1:${ledger.grpcPort}`, grpc.credentials.createInsecure()) as any;
    try {
      const t = await aTenant(ledger);
      const before = await t.emitter('POST', `${t.P}/events`, { events: [anEvent(), anEvent()] });
      expect(before.status).toBe(200);
      const md = auth(t.tokens.emitter!);
      const refused: string[] = [];
      const whileGone = async () => {
        const lost = [anEvent(), anEvent()];
        refused.push(...lost.map((e) => e.eventId));
        const answers = [
          await t.emitter('POST', `${t.P}/events`, { events: lost }),
          await t.dpo('GET', `${t.P}/events?limit=5`),
          await t.dpo('GET', `${t.P}/subjects/${encodeURIComponent(lost[0]!.subject.id)}/report`),
          await t.auditor('GET', `${t.P}/ropa`),
        ];
        for (const a of answers) {
          expect({ status: a.status, type: a.type, problem: a.json?.type, retry: a.headers['retry-after'] })
            .toEqual({ status: 503, type: expect.stringContaining('application/problem+json'), problem: 'https://pdl.dev/problems/store-unavailable', retry: '2' });
        }
        expect((await client(ledger.base)('GET', '/health')).status).toBe(503);
        const viaGrpc = anEvent();
        refused.push(viaGrpc.eventId);
        const err = await new Promise<any>((res) => g.Append({ tenant: t.P.split('/').pop(), events: [toProto(viaGrpc)] }, md, (e: any) => res(e)));
        expect(err?.code).toBe(grpc.status.UNAVAILABLE);
      };

      through.cut(); // refused at once, as by a stopped server
      await whileGone();
      through.hang(); // never answered, as across a partition: each wait ends after connect_timeout
      const started = Date.now();
      await whileGone();
      expect(Date.now() - started).toBeLessThan(60_000);

      through.mend();
      expect(await healthAgain(ledger.base)).toBe(200);
      const after = await t.emitter('POST', `${t.P}/events`, { events: [anEvent()] });
      expect(after.status).toBe(200);
      // One log without gaps, holding nothing that was refused.
      const entries = await gapFreeLog(t);
      expect(entries.at(-1)?.eventId).toBe(after.json.results[0].eventId);
      const ids = new Set(entries.map((e) => e.eventId));
      expect(refused.filter((id) => ids.has(id))).toEqual([]);
      expect(ledger.output()).not.toContain('unexpected error');
    } finally {
      g.close();
      await ledger.stop();
      await through.close();
      await db.drop();
    }
  }, 120_000);
});

describe('PostgreSQL connections breaking in the middle of requests', () => {
  it('fail those requests (503), never the ledger; every acknowledged event is in the gap-free log once', async () => {
    const { db, through, ledger } = await ledgerThroughRelay();
    try {
      const t = await aTenant(ledger);
      const acknowledged = new Set<string>();
      const statuses = new Set<number>();
      for (let round = 0; round < 5; round++) {
        // Appends and reads in flight, then every connection broken under them (as by a restarting server).
        const load = Array.from({ length: 16 }, async (_, i) => {
          const events = Array.from({ length: 20 }, () => anEvent());
          const r = i % 4 === 3 ? await t.dpo('GET', `${t.P}/events?limit=50`) : await t.emitter('POST', `${t.P}/events`, { events });
          statuses.add(r.status);
          if (r.status === 503) expect(r.type).toContain('application/problem+json');
          if (r.status === 200 && r.json.results) for (const x of r.json.results) acknowledged.add(x.eventId);
        });
        await new Promise((r) => setTimeout(r, 20 + round * 15));
        through.cut();
        await Promise.all(load);
        through.mend();
        expect(await healthAgain(ledger.base)).toBe(200);
      }
      expect([...statuses].filter((s) => s !== 200 && s !== 503)).toEqual([]);
      const after = await t.emitter('POST', `${t.P}/events`, { events: [anEvent()] });
      expect(after.status).toBe(200);
      const entries = await gapFreeLog(t);
      const ids = entries.map((e) => e.eventId);
      expect(new Set(ids).size).toBe(ids.length);
      expect([...acknowledged].filter((id) => !ids.includes(id))).toEqual([]);
      expect(ledger.output()).not.toContain('unexpected error');
    } finally {
      await ledger.stop();
      await through.close();
      await db.drop();
    }
  }, 120_000);
});

describe('PostgreSQL that cannot serve a request in time', () => {
  it("answers 503 to a read or an append kept past the URL's lock_timeout, and serves again once the lock is gone", async () => {
    const db = await storeEnv('postgres');
    const url = new URL(db.env.PDL_POSTGRES_URL!);
    url.searchParams.set('options', '-c lock_timeout=300ms');
    const ledger = await startLedger({ env: { ...db.env, PDL_POSTGRES_URL: url.toString() } });
    const holder = new pg.Client({ connectionString: db.env.PDL_POSTGRES_URL });
    await holder.connect();
    try {
      const t = await aTenant(ledger);
      await holder.query('begin');
      await holder.query('lock table pdl.audit_events, pdl.events in access exclusive mode');
      // Until 2026-12-02 the read was answered 500 (its 55P03 taken for a failure of the code).
      const answers = [await t.dpo('GET', `${t.P}/events?limit=5`), await t.emitter('POST', `${t.P}/events`, { events: [anEvent()] })];
      for (const a of answers) {
        expect({ status: a.status, problem: a.json?.type, retry: a.headers['retry-after'] }).toEqual({ status: 503, problem: 'https://pdl.dev/problems/store-unavailable', retry: '2' });
      }
      await holder.query('rollback');
      expect((await t.dpo('GET', `${t.P}/events?limit=5`)).status).toBe(200);
      expect((await t.emitter('POST', `${t.P}/events`, { events: [anEvent()] })).status).toBe(200);
      expect(ledger.output()).not.toContain('unexpected error');
    } finally {
      await holder.end();
      await ledger.stop();
      await db.drop();
    }
  }, 60_000);
});

describe('a PostgreSQL user that may not create schemas', () => {
  it('is told which schema it could not create and what would let it; given schemas made for it, the ledger runs on them', async () => {
    const db = await freshDatabase();
    const role = `pdl_weak_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      await admin.query(`create role ${role} login`);
      await admin.query(`revoke create on database ${new URL(db.url).pathname.slice(1)} from public`);
      const url = new URL(db.url);
      url.username = role;
      const env = { PDL_STORE: 'postgres', PDL_POSTGRES_URL: url.toString() };
      const refused = await startLedger({ env }).then(async (l) => { await l.stop(); return 'started'; }, (e: Error) => e.message);
      expect(refused).toMatch(/PostgreSQL refused to create the schema pdl\w* \(permission denied for database \w+\): grant the ledger's user CREATE on the database, or create the schema for it, owned by it/);
      // Schemas made for it by whoever may: it needs nothing more of the database.
      for (const schema of ['pdl', 'pdl_keys', 'pdl_secrets']) await admin.query(`create schema if not exists ${schema} authorization ${role}`);
      const ledger = await startLedger({ env });
      try {
        const t = await aTenant(ledger);
        expect((await t.emitter('POST', `${t.P}/events`, { events: [anEvent()] })).status).toBe(200);
      } finally {
        await ledger.stop();
      }
    } finally {
      await admin.end();
      await db.drop();
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop role if exists ${role}`).finally(() => c.end());
    }
  }, 60_000);
});
