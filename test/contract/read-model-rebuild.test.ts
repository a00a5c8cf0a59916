import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { IdentifierVault } from '../../src/keys/application/identifier-vault.js';
import { LedgerWriter } from '../../src/ledger/application/ledger-writer.js';
import { decodeAppendBody, PROCESSING_TYPES } from '../../src/ledger/domain/processing-event.js';
import type { DraftEntry } from '../../src/ledger/domain/log-entry.js';
import { openEmbeddedStorage } from '../../src/storage/embedded-storage.js';
import { scenario } from '../support/builders.js';
import { tempDir } from '../support/ledger-process.js';

const master = { key: randomBytes(32), id: 'test' };
const actor = { type: 'admin', id: 'test' } as const;
/** Every read model table, as rows sorted the same way (insertion-order ids left out: only their order is meaningful). */
const READ_MODELS = ['tenants', 'tokens', 'declarations', 'audit_events', 'audit_subjects', 'subject_requests', 'authority_requests', 'authority_request_subjects',
  'authority_disclosures', 'findings', 'cmp_consents', 'cmp_restrictions', 'cmp_objections', 'cmp_holdings', 'cmp_holding_purposes', 'cmp_activity',
  'access_log', 'access_log_subjects', 'ropa_observed', 'ropa_subjects', 'ropa_subject_counts'];

function snapshot(dir: string): Record<string, string[]> {
  const db = new Database(join(dir, 'ledger.db'), { readonly: true });
  try {
    return Object.fromEntries(READ_MODELS.map((table) => {
      const rows = db.prepare(`select * from ${table}`).all() as Array<Record<string, unknown>>;
      return [table, rows.map((r) => { const { seq: _s, ...rest } = r; return JSON.stringify(rest, (_k, v) => (Buffer.isBuffer(v) ? v.toString('hex') : v)); }).sort()];
    }));
  } finally {
    db.close();
  }
}

const SUBJECTS = ['visitor:a', 'visitor:b', 'visitor:c', 'customer:d'];
const PURPOSES = [...scenario.purposes.map((p: { id: string }) => p.id), 'ai-training'];
const SYSTEMS = [...scenario.systems.map((s: { id: string }) => s.id), 'legacy-crm'];
const RECIPIENTS = [...scenario.recipients.map((r: { id: string }) => r.id), 'unknown-partner'];
const CATEGORIES = ['user.device.ip_address', 'user.contact.email', 'user.name', 'user.device.cookie_id', 'user.behavior.browsing_history'];

const anEvent = fc.record({
  type: fc.constantFrom(...PROCESSING_TYPES), subject: fc.constantFrom(...SUBJECTS), purpose: fc.constantFrom(...PURPOSES), system: fc.constantFrom(...SYSTEMS),
  categories: fc.uniqueArray(fc.constantFrom(...CATEGORIES), { minLength: 1, maxLength: 3 }), day: fc.integer({ min: 0, max: 500 }),
  recipient: fc.constantFrom(...RECIPIENTS), withIp: fc.boolean(), request: fc.nat(),
});
const anAction = fc.oneof(
  { weight: 8, arbitrary: fc.array(anEvent, { minLength: 1, maxLength: 6 }).map((events) => ({ kind: 'events' as const, events })) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('subject-request' as const), subject: fc.constantFrom(...SUBJECTS), type: fc.constantFrom('access', 'erasure'), day: fc.integer({ min: 0, max: 500 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('change-request' as const), which: fc.nat(), change: fc.constantFrom('extend', 'complete') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('authority-request' as const), subject: fc.constantFrom(...SUBJECTS), sealed: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('change-authority' as const), which: fc.nat(), change: fc.constantFrom('decide', 'close', 'unseal') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('accessed' as const), subject: fc.constantFrom(...SUBJECTS) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('redeclare' as const), period: fc.constantFrom('P1M', 'P1Y', null) }) },
);

const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

describe('read models rebuilt from the log', () => {
  it('equal the read models built commit by commit, for any sequence of entries', async () => {
    let run = 0;
    await fc.assert(fc.asyncProperty(fc.array(anAction, { minLength: 1, maxLength: 25 }), async (actions) => {
      const dir = tempDir();
      let n = (++run) * 1_000_000;
      const id = () => uuid(n++);
      const s = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
      const writer = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
      const admin = async (drafts: DraftEntry[]) => {
        const r = await writer.append('acme', async () => ({ _tag: 'Right', right: { drafts, answer: () => null } }) as never);
        expect(r._tag).toBe('Right');
      };
      await admin([{ type: 'tenant-declared', eventId: id(), actor, settings: { name: 'Acme', residency: ['EEA'] } } as DraftEntry]);
      const declarations: DraftEntry[] = [];
      for (const [kind, list] of [['system', scenario.systems], ['recipient', scenario.recipients], ['purpose', scenario.purposes]] as const) {
        for (const { id: did, ...body } of list) declarations.push({ type: `${kind}-declared`, eventId: id(), actor, declaration: { id: did, version: 1, body } } as DraftEntry);
      }
      await admin(declarations);
      const subjectRequests: string[] = [];
      const authorityRequests: string[] = [];
      let version = 1;
      for (const a of actions) {
        const day = (d: number) => new Date(Date.UTC(2026, 0, 1) + d * 86_400_000).toISOString().replace('.000Z', 'Z');
        if (a.kind === 'events') {
          const decoded = decodeAppendBody({ events: a.events.map((e) => ({
            eventId: id(), type: e.type, subject: { id: e.subject, ...(e.withIp ? { identifiers: { ip: `198.51.100.${SUBJECTS.indexOf(e.subject)}` } } : {}) },
            categories: e.categories, purpose: e.purpose, system: e.system, occurredAt: day(e.day),
            ...(e.type === 'disclosed' ? { details: { recipient: e.recipient, ...(authorityRequests.length && e.request % 2 ? { authorityRequestId: authorityRequests[e.request % authorityRequests.length] } : {}) } } : {}),
            ...(e.type === 'transferred' ? { details: { country: 'US', mechanism: 'none', recipient: e.recipient } } : {}),
            ...(e.type === 'erased' ? { details: { reason: 'other' } } : {}),
          })) });
          if (decoded._tag === 'Left') throw new Error(JSON.stringify(decoded.left));
          expect((await writer.record('acme', decoded.right))._tag).toBe('Right');
        } else if (a.kind === 'subject-request') {
          const rid = id();
          subjectRequests.push(rid);
          await admin([{ type: 'subject-request-received', eventId: id(), actor, request: { id: rid, type: a.type, subject: a.subject, receivedAt: day(a.day), dueAt: day(a.day + 30) } } as DraftEntry]);
        } else if (a.kind === 'change-request' && subjectRequests.length) {
          const rid = subjectRequests[a.which % subjectRequests.length]!;
          await admin([a.change === 'extend'
            ? { type: 'subject-request-extended', eventId: id(), actor, request: { id: rid, reason: 'complex', dueAt: day(90) } } as DraftEntry
            : { type: 'subject-request-completed', eventId: id(), actor, request: { id: rid, outcome: 'fulfilled' } } as DraftEntry]);
        } else if (a.kind === 'authority-request') {
          const rid = id();
          authorityRequests.push(rid);
          await admin([{ type: 'authority-request-received', eventId: id(), actor, request: { id: rid, authority: 'police-paris', reference: 'R', legalBasis: 'law', receivedAt: day(10), subjects: [a.subject], sealed: a.sealed } } as DraftEntry]);
        } else if (a.kind === 'change-authority' && authorityRequests.length) {
          const rid = authorityRequests[a.which % authorityRequests.length]!;
          const request = a.change === 'decide' ? { id: rid, decision: 'comply', rationale: 'valid' } : { id: rid };
          await admin([{ type: `authority-request-${a.change === 'decide' ? 'decided' : a.change === 'close' ? 'closed' : 'unsealed'}`, eventId: id(), actor, request } as DraftEntry]);
        } else if (a.kind === 'accessed') {
          await admin([{ type: 'accessed', eventId: id(), actor, access: { what: 'report', subjects: [a.subject], format: 'json' } } as DraftEntry]);
        } else if (a.kind === 'redeclare') {
          const p = scenario.purposes.find((x: { id: string }) => x.id === 'marketing');
          const { id: pid, ...body } = p;
          await admin([{ type: 'purpose-declared', eventId: id(), actor, declaration: { id: pid, version: ++version, body: { ...body, retention: { ...body.retention, period: a.period } } } } as DraftEntry]);
        }
      }
      await writer.drain();
      await s.close();
      const incremental = snapshot(dir);
      const again = openEmbeddedStorage(dir, master, { writes: 'in-thread', rebuild: {} });
      expect(again.rebuilt?.events).toBeGreaterThan(0);
      await again.close();
      expect(snapshot(dir)).toEqual(incremental);
    }), { numRuns: 25 });
  }, 120_000);
});

describe('a rebuild that stops half-way', () => {
  it('resumes where it stopped, and a changed version rebuilds at start-up', async () => {
    const { openDatabase } = await import('../../src/common/sqlite/open-database.js');
    const { SqliteLogAppender } = await import('../../src/ledger/sqlite/sqlite-log-appender.js');
    const { embeddedProjections, READ_MODELS_VERSION } = await import('../../src/storage/embedded-projections.js');
    const dir = tempDir();
    const s = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
    const writer = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
    let n = 0;
    const id = () => uuid(n++);
    const r = await writer.append('acme', async () => ({ _tag: 'Right', right: { drafts: [{ type: 'tenant-declared', eventId: id(), actor, settings: { name: 'Acme', residency: ['EEA'] } }], answer: () => null } }) as never);
    expect(r._tag).toBe('Right');
    for (let batch = 0; batch < 6; batch++) {
      const decoded = decodeAppendBody({ events: Array.from({ length: 1000 }, (_, i) => ({
        eventId: id(), type: i % 3 ? 'used' : 'collected', subject: { id: `visitor:${i % 97}`, identifiers: { ip: `10.0.${batch}.${i % 250}` } },
        categories: ['user.device.ip_address'], purpose: 'visitor-session', system: 'core', occurredAt: '2026-03-01T10:00:00Z',
      })) });
      if (decoded._tag === 'Left') throw new Error('bad events');
      expect((await writer.record('acme', decoded.right))._tag).toBe('Right');
    }
    await writer.drain();
    await s.close();
    const incremental = snapshot(dir);

    const file = join(dir, 'ledger.db');
    const db = openDatabase(file), indexDb = openDatabase(file);
    let batches = 0;
    expect(() => new SqliteLogAppender(db, indexDb, embeddedProjections(db), {
      version: READ_MODELS_VERSION, force: true, batchSize: 2000, commitEvery: 2000, onProgress: () => { if (++batches === 1) throw new Error('power cut'); },
    })).toThrow('power cut');
    db.close();
    indexDb.close();
    const half = new Database(file, { readonly: true });
    expect(half.prepare('select rebuilt_through from read_models').pluck().get()).toBeGreaterThan(0);
    expect((half.prepare('select count(*) from audit_events').pluck().get() as number)).toBeLessThan(6000);
    half.close();

    const resumed = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
    expect(resumed.rebuilt).toMatchObject({ resumed: true });
    expect(resumed.rebuilt!.events).toBeLessThan(6001);
    await resumed.close();
    expect(snapshot(dir)).toEqual(incremental);

    const old = new Database(file);
    old.prepare('update read_models set version = 1').run();
    old.close();
    const upgraded = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
    expect(upgraded.rebuilt).toMatchObject({ resumed: false, events: 6001 });
    await upgraded.close();
    expect(snapshot(dir)).toEqual(incremental);
    const current = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
    expect(current.rebuilt).toBeNull();
    await current.close();
  }, 60_000);
});

describe('a ledger whose read models are of an older schema', () => {
  it('starts: the old tables are dropped before the projections are made, then folded again from the log', async () => {
    const dir = tempDir();
    const s = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
    const writer = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
    const admin = async (drafts: DraftEntry[]) => expect((await writer.append('acme', async () => ({ _tag: 'Right', right: { drafts, answer: () => null } }) as never))._tag).toBe('Right');
    await admin([{ type: 'tenant-declared', eventId: uuid(9_000_001), actor, settings: { name: 'Acme', residency: ['EEA'] } } as DraftEntry]);
    await admin([{ type: 'subject-request-received', eventId: uuid(9_000_002), actor, request: { id: uuid(9_000_003), type: 'erasure', subject: 'visitor:a', receivedAt: '2026-01-01T00:00:00Z', dueAt: '2026-02-01T00:00:00Z' } } as DraftEntry]);
    await writer.drain();
    await s.close();
    const before = snapshot(dir);
    // As a ledger of an earlier version left it: a column the projection now writes is missing.
    const old = new Database(join(dir, 'ledger.db'));
    old.exec('alter table subject_requests drop column extended_position; update read_models set version = 1;');
    old.close();
    const again = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
    expect(again.rebuilt).toMatchObject({ resumed: false, events: 2 });
    expect(await again.requests.subjectRequest('acme', uuid(9_000_003), '2026-01-02T00:00:00.000Z')).toMatchObject({ type: 'erasure', status: 'open' });
    await again.close();
    expect(snapshot(dir)).toEqual(before);
  });
});
