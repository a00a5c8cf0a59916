import { addIso } from '../../src/compliance/domain/calendar.js';
import type { Fact } from '../../src/compliance/domain/rules.js';
import { applyFact, MemorySubjectRecords, retentionAt, subjectFacts, type SubjectRecords } from '../../src/compliance/domain/subject-state.js';
import type { PurposeBody } from '../../src/declarations/domain/declaration.js';
import { join } from 'node:path';
import { openDatabase } from '../../src/common/sqlite/open-database.js';
import { KEPT_SUBJECTS, SqliteSubjectStore } from '../../src/compliance/sqlite/sqlite-subject-records.js';
import { ActivityIndex } from '../../src/compliance/sqlite/activity-index.js';
import { tempDir } from '../support/ledger-process.js';

const purposes: Record<string, PurposeBody> = {
  marketing: { title: 'M', legalBasis: 'consent', categories: ['user.contact.email'], retention: { period: 'P1M', from: 'last-activity' } },
  law: { title: 'L', legalBasis: 'legal-obligation', categories: ['user.device.ip_address'], retention: { period: 'P1Y', from: 'collection', minimum: 'P1Y' } },
  session: { title: 'S', legalBasis: 'legitimate-interests', categories: ['user.device.ip_address'], retention: { period: 'PT30M', from: 'last-activity' } },
};
const lookup = (p: string) => purposes[p] ?? null;
const ev = (type: Fact['type'], occurredAt: string, o: Partial<Fact> = {}): Fact => ({ type, subject: 's', categories: ['user.contact.email'], purpose: 'marketing', system: 'core', occurredAt, ...o });
const facts = (s: SubjectRecords, f: Fact) => subjectFacts(s, f, lookup, null);
const fold = (s: SubjectRecords, f: Fact) => applyFact(s, f);

/** The writer's records of subject `s`, asked for anew at each question, after `before`. */
const askedAfter = (store: SqliteSubjectStore, before: () => void): SubjectRecords => new Proxy({} as SubjectRecords, {
  get: (_t, name: keyof SubjectRecords) => (...args: unknown[]) => {
    before();
    return (store.records('acme', 's')[name] as (...a: unknown[]) => unknown)(...args);
  },
});

/** Dropped from memory before each question: every answer comes from what was loaded from the tables. */
const rereadEachTime = (store: SqliteSubjectStore): SubjectRecords => askedAfter(store, () => store.forget());

/**
 * As a rebuild's writer keeps it (tables empty when it began, so a subject met the first time is not read):
 * `s` pushed out of memory by two other subjects before each question, then read again as one met before.
 */
function pushedOutInRebuild(): SubjectRecords {
  const db = openDatabase(join(tempDir(), 'ledger.db'));
  const store = new SqliteSubjectStore(db, undefined, 2);
  store.beginRebuild(db);
  return askedAfter(store, () => ['other-1', 'other-2'].forEach((o) => store.records('acme', o)));
}

/**
 * As `pushedOutInRebuild`, its activity through the writer's deferred index (the rebuild's indexes waiting
 * for its end), each group of it written before each question, as the appender writes them after its commits.
 */
function pushedOutInRebuildWithActivity(): SubjectRecords {
  const db = openDatabase(join(tempDir(), 'ledger.db'));
  const activity = new ActivityIndex();
  const store = new SqliteSubjectStore(db, activity, 2);
  store.beginRebuild(db);
  return askedAfter(store, () => {
    activity.add([]);
    activity.write(db);
    activity.committed();
    ['other-1', 'other-2'].forEach((o) => store.records('acme', o));
  });
}

const stores: Array<[string, () => SubjectRecords]> = [
  ['in memory', () => new MemorySubjectRecords()],
  ['in SQLite', () => new SqliteSubjectStore(openDatabase(join(tempDir(), 'ledger.db'))).records('acme', 's')],
  ['in SQLite, kept in memory by the writer', () => new SqliteSubjectStore(openDatabase(join(tempDir(), 'ledger.db')), undefined, KEPT_SUBJECTS).records('acme', 's')],
  ['in SQLite, kept in memory but read again from the tables at each question', () => rereadEachTime(new SqliteSubjectStore(openDatabase(join(tempDir(), 'ledger.db')), undefined, KEPT_SUBJECTS))],
  ['in SQLite, in a rebuild, pushed out of memory and read again at each question', pushedOutInRebuild],
  ['in SQLite, in a rebuild, pushed out of memory, its activity written apart', pushedOutInRebuildWithActivity],
];

describe.each(stores)('a subject\'s state over time (%s)', (_name, newRecords) => {
  it('judges consent at occurredAt: withdrawn, then given again', () => {
    const s = newRecords();
    fold(s, ev('consent-given', '2026-01-01T00:00:00Z'));
    fold(s, ev('consent-withdrawn', '2026-02-01T00:00:00Z'));
    fold(s, ev('consent-given', '2026-03-01T00:00:00Z'));
    expect(facts(s, ev('used', '2026-01-15T00:00:00Z')).consented).toBe(true);
    expect(facts(s, ev('used', '2026-02-15T00:00:00Z')).consented).toBe(false);
    expect(facts(s, ev('used', '2026-03-15T00:00:00Z')).consented).toBe(true);
    expect(facts(s, ev('used', '2025-12-31T23:59:59.999Z')).consented).toBe(false);
    expect(facts(s, ev('used', '2026-03-15T00:00:00Z', { purpose: 'other' })).consented).toBe(false);
  });

  it('knows a consent recorded late for an earlier moment', () => {
    const s = newRecords();
    fold(s, ev('consent-withdrawn', '2026-02-01T00:00:00Z'));
    fold(s, ev('consent-given', '2026-01-01T00:00:00Z'));
    expect(facts(s, ev('used', '2026-01-15T00:00:00Z')).consented).toBe(true);
    expect(facts(s, ev('used', '2026-02-15T00:00:00Z')).consented).toBe(false);
  });

  it('lifts a restriction, and keeps an objection to its purpose only', () => {
    const s = newRecords();
    fold(s, ev('restricted', '2026-01-01T00:00:00Z'));
    fold(s, ev('restriction-lifted', '2026-01-10T00:00:00Z'));
    fold(s, ev('objected', '2026-02-01T00:00:00Z'));
    expect(facts(s, ev('used', '2026-01-05T00:00:00Z')).restricted).toBe(true);
    expect(facts(s, ev('used', '2026-01-15T00:00:00Z')).restricted).toBe(false);
    expect(facts(s, ev('used', '2026-02-15T00:00:00Z')).objected).toBe(true);
    expect(facts(s, ev('used', '2026-02-15T00:00:00Z', { purpose: 'law' })).objected).toBe(false);
  });

  it('counts a category as erased only when no system holds it, and not after it is collected again', () => {
    const s = newRecords();
    fold(s, ev('collected', '2026-01-01T00:00:00Z'));
    fold(s, ev('stored', '2026-01-01T00:00:00Z', { system: 'plugins' }));
    fold(s, ev('erased', '2026-01-02T00:00:00Z'));
    expect(facts(s, ev('used', '2026-01-03T00:00:00Z')).erased).toEqual([]);
    fold(s, ev('erased', '2026-01-04T00:00:00Z', { system: 'plugins' }));
    expect(facts(s, ev('used', '2026-01-05T00:00:00Z')).erased).toEqual(['user.contact.email']);
    expect(facts(s, ev('used', '2026-01-03T00:00:00Z')).erased).toEqual([]);
    fold(s, ev('collected', '2026-01-06T00:00:00Z'));
    expect(facts(s, ev('used', '2026-01-07T00:00:00Z')).erased).toEqual([]);
    expect(facts(s, ev('used', '2026-01-07T00:00:00Z', { categories: ['user.name'] })).erased).toEqual([]);
  });

  it('names the legal minimum still running when a held category is erased, and none once it has passed', () => {
    const s = newRecords();
    fold(s, ev('collected', '2026-02-01T09:00:00Z', { categories: ['user.device.ip_address'], purpose: 'session' }));
    fold(s, ev('stored', '2026-02-01T09:00:00Z', { categories: ['user.device.ip_address'], purpose: 'law' }));
    const early = facts(s, ev('erased', '2026-02-15T09:00:00Z', { categories: ['user.device.ip_address'] }));
    expect(early.minimums).toEqual([{ category: 'user.device.ip_address', purpose: 'law', until: '2027-02-01T09:00:00.000Z' }]);
    expect(facts(s, ev('erased', '2027-02-01T09:00:00Z', { categories: ['user.device.ip_address'] })).minimums).toEqual([]);
  });

  it('times retention from collection or from the last activity, due-soon within the configured days', () => {
    const s = newRecords();
    fold(s, ev('collected', '2026-01-01T00:00:00Z'));
    fold(s, ev('activity', '2026-01-20T00:00:00Z'));
    const at = (t: string, days = 7) => retentionAt(s, t, lookup, days).map((r) => [r.status, r.deadline]);
    expect(at('2026-02-01T00:00:00Z')).toEqual([['held', '2026-02-20T00:00:00.000Z']]);
    expect(at('2026-02-15T00:00:00Z')).toEqual([['due-soon', '2026-02-20T00:00:00.000Z']]);
    expect(at('2026-02-15T00:00:00Z', 3)).toEqual([['held', '2026-02-20T00:00:00.000Z']]);
    expect(at('2026-02-20T00:00:00Z')).toEqual([['overdue', '2026-02-20T00:00:00.000Z']]);
    expect(at('2026-01-10T00:00:00Z')).toEqual([['held', '2026-02-01T00:00:00.000Z']]);
    expect(at('2025-12-31T00:00:00Z')).toEqual([]);
  });
});

describe('calendar durations', () => {
  it('adds calendar months clamped to the end of a shorter month', () => {
    expect(addIso('2026-01-31T09:00:00Z', 'P1M').toISOString()).toBe('2026-02-28T09:00:00.000Z');
    expect(addIso('2028-01-31T09:00:00Z', 'P1M').toISOString()).toBe('2028-02-29T09:00:00.000Z');
    expect(addIso('2026-01-31T09:00:00Z', 'P3M').toISOString()).toBe('2026-04-30T09:00:00.000Z');
    expect(addIso('2028-02-29T00:00:00Z', 'P1Y').toISOString()).toBe('2029-02-28T00:00:00.000Z');
    expect(addIso('2026-12-15T00:00:00Z', 'P1M').toISOString()).toBe('2027-01-15T00:00:00.000Z');
    expect(addIso('2026-01-10T09:05:00Z', 'PT30M').toISOString()).toBe('2026-01-10T09:35:00.000Z');
    expect(addIso('2026-01-10T00:00:00Z', 'P1W2DT1H').toISOString()).toBe('2026-01-19T01:00:00.000Z');
    expect(() => addIso('2026-01-10T00:00:00Z', 'P')).toThrow();
  });

  it('stops at the last instant RFC 3339 writes, however far the sum goes (a ledger may hold longer periods than it now accepts)', () => {
    expect(addIso('9999-12-15T00:00:00Z', 'P1M').toISOString()).toBe('9999-12-31T23:59:59.999Z');
    expect(addIso('2026-01-10T00:00:00Z', 'P8000Y').toISOString()).toBe('9999-12-31T23:59:59.999Z');
    expect(addIso('2026-01-10T00:00:00Z', 'P999999999Y').toISOString()).toBe('9999-12-31T23:59:59.999Z');
    expect(addIso('2026-01-10T00:00:00Z', 'P99999999999999999999D').toISOString()).toBe('9999-12-31T23:59:59.999Z');
    expect(addIso('9999-12-31T23:59:59Z', 'PT1S').toISOString()).toBe('9999-12-31T23:59:59.999Z');
  });
});

describe('the indexes a rebuild makes at its end', () => {
  const indexes = (db: ReturnType<typeof openDatabase>) =>
    db.prepare("select name from sqlite_master where type = 'index' and name in ('cmp_activity_at', 'cmp_holdings_at') order by name").pluck().all();
  const activityRows = (db: ReturnType<typeof openDatabase>) => db.prepare('select tenant, subject, at from cmp_activity order by seq').raw().all();
  const writeGroup = (activity: ActivityIndex, db: ReturnType<typeof openDatabase>) => {
    activity.add([]);
    activity.write(db);
    activity.committed();
  };

  it('are left to the next opening when the rebuild stopped before its end, the activity written twice left once', () => {
    const file = join(tempDir(), 'ledger.db');
    const db = openDatabase(file);
    const activity = new ActivityIndex();
    const store = new SqliteSubjectStore(db, activity, 10);
    store.beginRebuild(db);
    expect(indexes(db)).toEqual([]);
    // The same activity in two groups, and twice in one: written without looking while the index waits.
    for (const times of [2, 1]) {
      for (let i = 0; i < times; i++) store.records('acme', 's').addActivity('2026-01-01T00:00:00.000Z');
      store.records('acme', 's').addActivity('2026-01-02T00:00:00.000Z');
      writeGroup(activity, db);
    }
    store.records('acme', 's').openHolding('user.contact.email', 'core', '2026-01-01T00:00:00.000Z', 'marketing');
    expect(activityRows(db)).toHaveLength(4);
    db.close(); // stopped here: the end of the rebuild never came

    const again = openDatabase(file);
    const reopened = new SqliteSubjectStore(again, new ActivityIndex(), 10);
    expect(indexes(again)).toEqual(['cmp_activity_at', 'cmp_holdings_at']);
    expect(activityRows(again)).toEqual([['acme', 's', '2026-01-01T00:00:00.000Z'], ['acme', 's', '2026-01-02T00:00:00.000Z']]);
    expect(reopened.subjectHoldings('acme', 's').map((h) => h.category)).toEqual(['user.contact.email']);
    expect(reopened.records('acme', 's').lastActivity('2026-01-01T12:00:00.000Z')).toBe('2026-01-01T00:00:00.000Z');
    again.close();
  });

  it('are made as soon as the rebuild reads the activity, which is then written once again, and are there at its end', () => {
    const db = openDatabase(join(tempDir(), 'ledger.db'));
    const activity = new ActivityIndex();
    const store = new SqliteSubjectStore(db, activity, 10);
    store.beginRebuild(db);
    store.records('acme', 's').addActivity('2026-01-01T00:00:00.000Z');
    writeGroup(activity, db);
    store.records('acme', 's').addActivity('2026-01-01T00:00:00.000Z');
    writeGroup(activity, db);
    expect(store.records('acme', 's').lastActivity('2026-01-05T00:00:00.000Z')).toBe('2026-01-01T00:00:00.000Z');
    expect(indexes(db)).toEqual(['cmp_activity_at']);
    expect(activityRows(db)).toHaveLength(1);
    store.records('acme', 's').addActivity('2026-01-01T00:00:00.000Z');
    writeGroup(activity, db);
    expect(activityRows(db)).toHaveLength(1);
    store.endRebuild();
    expect(indexes(db)).toEqual(['cmp_activity_at', 'cmp_holdings_at']);
    db.close();
  });
});
