import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { IdentifierVault } from '../../src/keys/application/identifier-vault.js';
import { recoverBlindIndex } from '../../src/keys/application/blind-index-recovery.js';
import { LedgerWriter } from '../../src/ledger/application/ledger-writer.js';
import { decodeAppendBody } from '../../src/ledger/domain/processing-event.js';
import type { DraftEntry } from '../../src/ledger/domain/log-entry.js';
import { openEmbeddedStorage } from '../../src/storage/embedded-storage.js';
import { embeddedProjections, readModelsVersion } from '../../src/storage/embedded-projections.js';
import { resetStaleReadModels } from '../../src/ledger/sqlite/sqlite-log-appender.js';
import { FACET_SPAN } from '../../src/audit-trail/sqlite/audit-trail-projection.js';
import { anAction, playActions, uuid } from '../support/random-ledger.js';
import { declareTenant } from '../support/builders.js';
import { tempDir } from '../support/ledger-process.js';

const master = { key: randomBytes(32), id: 'test' };
const actor = { type: 'admin', id: 'test' } as const;
/** Every read model table, as rows sorted the same way (insertion-order ids left out: only their order is meaningful). */
const READ_MODELS = ['tenants', 'tokens', 'declarations', 'audit_events', 'audit_subjects', 'audit_facets', 'audit_facet_names', 'subject_requests', 'authority_requests', 'authority_request_subjects',
  'authority_disclosures', 'forgotten_subjects', 'destroyed_keys', 'findings', 'cmp_consents', 'cmp_restrictions', 'cmp_objections', 'cmp_holdings', 'cmp_holding_purposes', 'cmp_activity',
  'access_log', 'access_log_subjects', 'ropa_observed', 'ropa_subjects', 'ropa_subject_counts', 'audit_subjects_through', 'audit_facets_through'];

/** Tables keyed by numbers given in insertion order: read by what the numbers stand for. */
const QUERIES: Record<string, string> = {
  audit_facet_names: 'select tenant, facet, n from audit_facet_names',
  audit_facets: `select n.tenant, n.facet, f.key - n.id * ${FACET_SPAN} as position from audit_facets f join audit_facet_names n on f.key >= n.id * ${FACET_SPAN} and f.key < (n.id + 1) * ${FACET_SPAN}`,
};

function snapshot(dir: string): Record<string, string[]> {
  const db = new Database(join(dir, 'ledger.db'), { readonly: true });
  try {
    return Object.fromEntries(READ_MODELS.map((table) => {
      const rows = db.prepare(QUERIES[table] ?? `select * from ${table}`).all() as Array<Record<string, unknown>>;
      return [table, rows.map((r) => { const { seq: _s, ...rest } = r; return JSON.stringify(rest, (_k, v) => (Buffer.isBuffer(v) ? v.toString('hex') : v)); }).sort()];
    }));
  } finally {
    db.close();
  }
}

describe('read models rebuilt from the log', () => {
  it('equal the read models built commit by commit, for any sequence of entries', async () => {
    let run = 0;
    await fc.assert(fc.asyncProperty(fc.array(anAction, { minLength: 1, maxLength: 25 }), async (actions) => {
      const dir = tempDir();
      let n = (++run) * 1_000_000;
      const id = () => uuid(n++);
      const s = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
      const writer = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
      await playActions(writer, actions, id);
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

/** A stopped ledger of 6,001 entries (97 subjects); answers its directory and the read models built commit by commit. */
async function sixThousandEvents(): Promise<{ dir: string; incremental: Record<string, string[]> }> {
  const dir = tempDir();
  const s = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
  const writer = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
  let n = 0;
  const id = () => uuid(n++);
  await declareTenant(writer, 'acme', { eventId: id() });
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
  return { dir, incremental: snapshot(dir) };
}

/**
 * Runs a rebuild of `dir`'s read models on this thread (with `apart`, the engine's on a worker too) that
 * stops, as at a power cut, at its `stopAt`-th batch of `batch` entries (one commit each).
 */
async function stoppedRebuild(dir: string, batch: number, stopAt: number, apart = false): Promise<void> {
  const { openDatabase } = await import('../../src/common/sqlite/open-database.js');
  const { SqliteLogAppender } = await import('../../src/ledger/sqlite/sqlite-log-appender.js');
  const { embeddedProjections, READ_MODELS_VERSION } = await import('../../src/storage/embedded-projections.js');
  const { rebuildApart } = await import('../../src/storage/rebuild-apart.js');
  const file = join(dir, 'ledger.db');
  const db = openDatabase(file), indexDb = openDatabase(file);
  let batches = 0;
  try {
    expect(() => new SqliteLogAppender(db, indexDb, embeddedProjections(db), {
      version: READ_MODELS_VERSION, force: true, batchSize: batch, commitEvery: batch, ...(apart ? { apart: rebuildApart(file, READ_MODELS_VERSION) } : {}),
      onProgress: () => { if (++batches === stopAt) throw new Error('power cut'); },
    })).toThrow('power cut');
  } finally {
    db.close();
    indexDb.close();
  }
}

/** The next start resumes the stopped rebuild: the read models equal those built commit by commit, and the engine's file is gone. */
async function resumesApart(dir: string, incremental: Record<string, string[]>): Promise<void> {
  const { existsSync } = await import('node:fs');
  const resumed = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
  expect(resumed.rebuilt).toMatchObject({ resumed: true });
  await resumed.close();
  expect(snapshot(dir)).toEqual(incremental);
  expect(existsSync(join(dir, 'ledger.db.rebuild-apart'))).toBe(false);
}

describe('a rebuild that stops half-way', () => {
  it('resumes where it stopped, and a changed version rebuilds at start-up', async () => {
    const { dir, incremental } = await sixThousandEvents();
    const file = join(dir, 'ledger.db');
    await stoppedRebuild(dir, 2000, 1);
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

  it('with the compliance engine folded apart: its file is kept when the rest fails, and the next start resumes from both', async () => {
    const { dir, incremental } = await sixThousandEvents();
    const file = join(dir, 'ledger.db');
    await stoppedRebuild(dir, 1000, 3, true);
    // The worker was stopped at a batch, its progress committed with its rows, and its file left for the next try.
    const apart = new Database(`${file}.rebuild-apart`, { readonly: true });
    const through = apart.prepare('select rebuilt_through from read_models').pluck().get() as number;
    expect(through).toBeGreaterThanOrEqual(-1);
    expect(apart.prepare('select count(*) from findings where position > ?').pluck().get(through)).toBe(0);
    apart.close();

    await resumesApart(dir, incremental);
  }, 60_000);

  it('with the engine folded apart by a worker that runs out of memory: fails at once saying so, and the next start rebuilds', async () => {
    const { openDatabase } = await import('../../src/common/sqlite/open-database.js');
    const { SqliteLogAppender } = await import('../../src/ledger/sqlite/sqlite-log-appender.js');
    const { READ_MODELS_VERSION } = await import('../../src/storage/embedded-projections.js');
    const { rebuildApart } = await import('../../src/storage/rebuild-apart.js');
    const { existsSync } = await import('node:fs');
    const { dir, incremental } = await sixThousandEvents();
    const file = join(dir, 'ledger.db');
    const db = openDatabase(file), indexDb = openDatabase(file);
    try {
      // Its heap too small to fold anything: until 2026-12-02 this thread waited 120 s (beyond this test's
      // time) for a worker long dead.
      expect(() => new SqliteLogAppender(db, indexDb, embeddedProjections(db), {
        version: READ_MODELS_VERSION, force: true, batchSize: 500, commitEvery: 500,
        apart: rebuildApart(file, READ_MODELS_VERSION, { maxOldGenerationSizeMb: 2, maxYoungGenerationSizeMb: 1 }),
      })).toThrow(/the rebuild's worker failed: it ended without an answer: it ran out of memory/);
    } finally {
      db.close();
      indexDb.close();
    }
    expect(existsSync(`${file}.rebuild-apart`)).toBe(false);
    await resumesApart(dir, incremental);
  }, 60_000);

  it('with the engine folded apart from a file that is not a database: the file is made again', async () => {
    const { writeFileSync } = await import('node:fs');
    const { dir, incremental } = await sixThousandEvents();
    const file = join(dir, 'ledger.db');
    // Stopped after its first commit, on this thread alone: the next start resumes, and its worker finds the file below.
    await stoppedRebuild(dir, 2000, 1);
    writeFileSync(`${file}.rebuild-apart`, 'not a database '.repeat(500));

    await resumesApart(dir, incremental);
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

  it('runs `beforeDrop` (the read of the file into the page cache) only when the read models are dropped', async () => {
    const dir = tempDir();
    const s = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
    const writer = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
    await declareTenant(writer);
    await writer.drain();
    await s.close();
    const db = new Database(join(dir, 'ledger.db'));
    const scratch = new Database(':memory:');
    const options = { rules: true, readModels: true };
    const projections = embeddedProjections(scratch, options);
    const version = readModelsVersion(options);
    const calls: string[] = [];
    expect(resetStaleReadModels(db, projections, version, false, () => calls.push('same version'))).toBe(false);
    expect(resetStaleReadModels(db, projections, version + 1, false, () => calls.push('another version'))).toBe(true);
    expect(resetStaleReadModels(db, projections, version + 1, true, () => calls.push('asked for'))).toBe(true);
    expect(calls).toEqual(['another version', 'asked for']);
    scratch.close();
    db.close();
  });
});

describe('a store written without some read models (as the benchmark measures them)', () => {
  it.each([[{ readModels: false }], [{ rules: false }]])('%j: opened as usual, folds them all again from the log', async (partial) => {
    const actions = fc.sample(fc.array(anAction, { minLength: 30, maxLength: 30 }), { numRuns: 1, seed: 42 })[0]!;
    const played = async (dir: string, options: object) => {
      const s = openEmbeddedStorage(dir, master, { writes: 'in-thread', ...options });
      const writer = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date('2026-03-01T12:00:00Z') });
      let n = 5_000_000;
      await playActions(writer, actions, () => uuid(n++));
      await writer.drain();
      await s.close();
    };
    // Rows per table (the hashes and ciphertexts differ between two stores: their keys are random).
    const counts = (dir: string) => {
      const db = new Database(join(dir, 'ledger.db'), { readonly: true });
      const exists = db.prepare("select 1 from sqlite_master where type = 'table' and name = ?").pluck();
      try {
        return Object.fromEntries(READ_MODELS.map((table) => [table, exists.get(table) ? db.prepare(`select count(*) from ${table}`).pluck().get() : 'absent']));
      } finally {
        db.close();
      }
    };
    const full = tempDir(), measured = tempDir();
    await played(full, {});
    await played(measured, partial);
    const partialCounts = counts(measured);
    const again = openEmbeddedStorage(measured, master, { writes: 'in-thread' });
    expect(again.rebuilt?.events).toBeGreaterThan(0);
    await again.close();
    expect(counts(measured)).toEqual(counts(full));
    // The measured store did leave read models out (or this test proves nothing).
    expect(partialCounts).not.toEqual(counts(full));
  });
});

describe('the deferred indexes written a slice at a time (a scheduled flush)', () => {
  it('leave, wherever the process stops between two slices, indexes that complete to the rebuilt ones', async () => {
    const { cpSync } = await import('node:fs');
    const dir = tempDir();
    const s = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
    const writer = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date('2026-03-01T12:00:00Z') });
    let n = 0;
    const id = () => uuid(n++);
    await declareTenant(writer, 'acme', { eventId: id() });
    // 21,000 events: past the 20,000 that start a scheduled flush; subjects, purposes, recipients and
    // instants repeat, so that every index gets rows of many keys, and activity at the same instant.
    for (let batch = 0; batch < 21; batch++) {
      const decoded = decodeAppendBody({ events: Array.from({ length: 1000 }, (_, i) => ({
        eventId: id(), type: i % 4 ? 'collected' : 'disclosed',
        subject: { id: `visitor:${(batch * 7 + i) % 1500}`, ...(i % 2 ? {} : { identifiers: { ip: `10.0.${batch}.${i % 250}` } }) },
        categories: ['user.device.ip_address'], purpose: i % 3 ? 'visitor-session' : 'marketing', system: 'core', occurredAt: `2026-03-0${1 + (i % 5)}T10:00:00Z`,
        ...(i % 4 ? {} : { details: { recipient: `partner-${i % 3}` } }),
      })) });
      if (decoded._tag === 'Left') throw new Error(JSON.stringify(decoded.left));
      expect((await writer.record('acme', decoded.right))._tag).toBe('Right');
    }
    // Stopped at several points of the flush under way: a copy of the files between two slices is what a
    // crash there leaves (no transaction is open between them).
    const stops: string[] = [];
    for (let turn = 0; turn < 120; turn++) {
      if (turn % 20 === 5) { const copy = tempDir(); cpSync(dir, copy, { recursive: true, filter: (f) => !f.endsWith('owner.lock') }); stops.push(copy); }
      await new Promise((r) => setImmediate(r));
    }
    await writer.drain();
    await s.close();
    // The blind index (keys.db), flushed a slice at a time too.
    const blindIndex = (d: string) => {
      const db = new Database(join(d, 'keys.db'), { readonly: true });
      try {
        return db.prepare("select tenant || ' ' || hex(hmac) || ' ' || subject || ' ' || category from blind_index order by 1").pluck().all();
      } finally {
        db.close();
      }
    };
    const whole = snapshot(dir);
    const wholeIndex = blindIndex(dir);
    expect(wholeIndex.length).toBeGreaterThan(10_000);
    for (const copy of stops) {
      // Opened again: each index completed from the log after its own checkpoint (the blind index as the
      // server completes it at start).
      const again = openEmbeddedStorage(copy, master, { writes: 'in-thread' });
      await recoverBlindIndex(again.eventStore, again.keyStore, new IdentifierVault(again.keyStore), 'acme');
      await again.close();
      expect(snapshot(copy)).toEqual(whole);
      expect(blindIndex(copy)).toEqual(wholeIndex);
    }
    // And the incremental indexes equal the rebuilt ones.
    const rebuilt = openEmbeddedStorage(dir, master, { writes: 'in-thread', rebuild: {} });
    await rebuilt.close();
    expect(snapshot(dir)).toEqual(whole);
  }, 120_000);
});
