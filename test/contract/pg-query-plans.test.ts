import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PgAuditTrailReadModel } from '../../src/audit-trail/postgres/pg-audit-trail.js';
import { migrate, schemaPool } from '../../src/common/postgres/migrations.js';
import { loadSubjects, PgFindings } from '../../src/compliance/postgres/pg-compliance.js';
import { MemorySubjectRecords } from '../../src/compliance/domain/subject-state.js';
import { PgMerkleTree } from '../../src/integrity/postgres/pg-merkle.js';
import { PgKeyStorage } from '../../src/keys/postgres/pg-key-store.js';
import { PgEventStore } from '../../src/ledger/postgres/pg-event-store.js';
import { READ_MODEL_MIGRATIONS } from '../../src/storage/postgres/read-model-migrations.js';
import { PG_URL } from '../support/postgres.js';

/**
 * Look-ups by a set of keys read those keys and no more, whatever PostgreSQL's statistics say: on tables
 * never analysed (a new ledger, a server running without autovacuum, as this machine's), written as
 * `tenant = $1 and key = any($2)` they read every row of the tenant — a cost that grows with the log, paid
 * on every append (the idempotency check) and, for the Merkle tree's size, under the append lock. Each
 * statement the code sends is explained, with its parameters, on tables of 20,000 rows never analysed.
 */
const ROWS = 20_000;
const STREAM = 'ledger-acme';
let schema: string;
let pool: pg.Pool;

beforeAll(async () => {
  schema = `pdl_test_${randomUUID().slice(0, 8)}`;
  pool = schemaPool(PG_URL, schema, 2);
  await PgEventStore.on(pool, schema, []);
  await migrate(pool, schema, 'read-models', 0x70646cf0, READ_MODEL_MIGRATIONS);
  for (const table of ['events', 'merkle_nodes', 'audit_events', 'findings', 'cmp_subjects']) await pool.query(`alter table ${table} set (autovacuum_enabled = false)`);
  await pool.query(`insert into events (global_position, stream, revision, event_id, type, data)
      select g, $1, g, 'id-' || g, 'collected', convert_to('{"v":1,"type":"collected","position":' || g || '}', 'UTF8') from generate_series(0, ${ROWS - 1}) g;
    insert into streams (stream, revision) values ($1, ${ROWS - 1});
    update global_position set last = ${ROWS - 1};`.replace(/\$1/g, `'${STREAM}'`));
  // Every complete subtree of a tree of ROWS leaves, as the projection stores them.
  await pool.query(`insert into merkle_nodes (stream, level, idx, hash) select '${STREAM}', l, g, '\\x00' from generate_series(0, 14) l, generate_series(0, (${ROWS} >> l) - 1) g`);
  await pool.query(`insert into audit_events (tenant, position, stream, type, subject, purpose, system, categories, occurred_at, recorded_at, hash)
    select 'acme', g, '${STREAM}', 'collected', 'visitor:' || (g % 50), 'chat', 'core', '{}', '2026-01-01', '2026-01-01', '\\x00' from generate_series(0, ${ROWS - 1}) g`);
  await pool.query(`insert into findings (tenant, position, event_id, subject, code, severity, message, recorded_at)
    select 'acme', g, 'id-' || g, 'visitor:1', 'purpose-undeclared', 'high', 'm', '2026-01-01' from generate_series(0, ${ROWS - 1}) g`);
  await pool.query(`insert into cmp_subjects (tenant, subject, state) select 'acme', 'visitor:' || g, $1 from generate_series(0, ${ROWS - 1}) g`, [JSON.stringify(new MemorySubjectRecords().snapshot())]);
}, 60_000);

afterAll(async () => {
  await pool.query(`drop schema if exists ${schema} cascade`);
  await pool.end();
});

interface Sent { readonly sql: string; readonly params: unknown[] }

/** The statements `work` sends (every client's), with their parameters. */
async function statementsOf(work: () => Promise<unknown>): Promise<Sent[]> {
  const seen: Sent[] = [];
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (typeof args[0] === 'string' && Array.isArray(args[1])) seen.push({ sql: args[0], params: args[1] });
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  try {
    await work();
  } finally {
    pg.Client.prototype.query = query;
  }
  return seen;
}

interface PlanNode { 'Node Type': string; 'Actual Rows': number; 'Actual Loops': number; 'Rows Removed by Filter'?: number; 'Rows Removed by Index Recheck'?: number; Plans?: PlanNode[] }

/** The most rows any node of the statement's plan produced or threw away (over all its loops), run on these tables. */
async function rowsTouched(sent: Sent): Promise<number> {
  return rowsTouchedOn(pool, sent);
}

async function rowsTouchedOn(on: pg.Pool, { sql, params }: Sent): Promise<number> {
  const [{ 'QUERY PLAN': [{ Plan }] }] = (await on.query(`explain (analyze, format json) ${sql}`, params)).rows as Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>;
  // EXPLAIN gives each count as an average per loop.
  const walk = (n: PlanNode): number => Math.max(n['Actual Loops'] * (n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0)), ...(n.Plans ?? []).map(walk));
  return walk(Plan);
}

const reads = (statements: Sent[]) => statements.filter((s) => /^\s*select/i.test(s.sql));

describe('PostgreSQL look-ups by a set of keys, on tables never analysed', () => {
  const ids = [...Array.from({ length: 50 }, (_, i) => `id-${i * 397}`), ...Array.from({ length: 50 }, () => randomUUID())];

  it('the idempotency check of an append reads only the ids asked for', async () => {
    const store = PgEventStore.attached(pool, schema, []);
    const statements = reads(await statementsOf(() => store.findByEventIds(STREAM, ids)));
    expect(statements).toHaveLength(1);
    expect(await rowsTouched(statements[0]!)).toBeLessThanOrEqual(ids.length);
  });

  it('an append reusing an id finds it by its id', async () => {
    const store = PgEventStore.attached(pool, schema, []);
    const events = [{ eventId: randomUUID(), type: 'collected', data: Buffer.from('{}') }, { eventId: 'id-7', type: 'collected', data: Buffer.from('{}') }];
    let outcome: unknown;
    const statements = reads(await statementsOf(async () => { [outcome] = await store.append([{ stream: STREAM, expectedRevision: ROWS - 1, events }]); }));
    expect(outcome).toMatchObject({ _tag: 'DuplicateEventIds' });
    const byIds = statements.filter((s) => /event_id/.test(s.sql));
    expect(byIds).toHaveLength(1);
    expect(await rowsTouched(byIds[0]!)).toBeLessThanOrEqual(events.length);
  });

  it("the Merkle tree's size reads one leaf", async () => {
    const tree = new PgMerkleTree(pool);
    let size = 0;
    const statements = reads(await statementsOf(async () => { size = await tree.treeSize(STREAM); }));
    expect(size).toBe(ROWS);
    expect(await rowsTouched(statements[0]!)).toBeLessThanOrEqual(1);
  });

  it("a root and a proof read only their subtrees' nodes", async () => {
    const tree = new PgMerkleTree(pool);
    const statements = reads(await statementsOf(async () => {
      await tree.root(STREAM, ROWS);
      await tree.inclusion(STREAM, 777, ROWS);
    }));
    expect(statements).toHaveLength(2);
    for (const s of statements) expect(await rowsTouched(s)).toBeLessThanOrEqual(20);
  });

  it("the trail's rows at given positions, and the findings of given events, read only those", async () => {
    const positions = Array.from({ length: 100 }, (_, i) => i * 173);
    const trail = new PgAuditTrailReadModel(pool);
    const findings = new PgFindings(pool);
    let rows = 0;
    let found = 0;
    const statements = reads(await statementsOf(async () => {
      rows = (await trail.at('acme', positions)).length;
      found = (await findings.ofEvents('acme', ids)).size;
    }));
    expect([rows, found]).toEqual([100, 50]);
    expect(statements).toHaveLength(2);
    for (const s of statements) expect(await rowsTouched(s)).toBeLessThanOrEqual(100);
  });

  it("the compliance state of a commit's subjects: each read alone", async () => {
    const pairs = Array.from({ length: 100 }, (_, i) => ['acme', `visitor:${i * 171}`] as const);
    let found = 0;
    const statements = reads(await statementsOf(async () => { found = (await loadSubjects(pool, [...pairs, ['acme', 'nobody']])).size; }));
    expect(found).toBe(100);
    expect(statements).toHaveLength(1);
    expect(await rowsTouched(statements[0]!)).toBeLessThanOrEqual(101);
  });

  it("a cycle's data keys: each subject's last generation, read alone", async () => {
    const keysSchema = `${schema}_keys`;
    const keys = await PgKeyStorage.open(PG_URL, keysSchema);
    const keysPool = schemaPool(PG_URL, keysSchema, 1);
    try {
      await keysPool.query('alter table data_keys set (autovacuum_enabled = false)');
      await keysPool.query(`insert into data_keys (tenant, subject, category, generation, wrapped, master_id, created_at)
        select 'acme', 'visitor:' || (g % 5000), 'user.device', g / 5000, '\\x00', 'm', '2026-01-01' from generate_series(0, ${ROWS - 1}) g`);
      const refs = [...Array.from({ length: 60 }, (_, i) => ({ subject: `visitor:${i * 83}`, category: 'user.device' })), { subject: 'visitor:1', category: 'user.device' }, { subject: 'nobody', category: 'user.device' }];
      let live = new Map<string, { generation: number }>();
      const statements = reads(await statementsOf(async () => { live = await keys.liveMany('acme', refs); }));
      expect(live.size).toBe(61);
      expect([...live.values()].every((k) => k.generation === ROWS / 5000 - 1)).toBe(true);
      expect(statements).toHaveLength(1);
      for (const s of statements) expect(await rowsTouchedOn(keysPool, s)).toBeLessThanOrEqual(62);
    } finally {
      await keysPool.query(`drop schema if exists ${keysSchema} cascade`);
      await keysPool.end();
      await keys.end();
    }
  });
});
