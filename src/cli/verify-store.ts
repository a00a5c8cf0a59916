import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { verifyNote } from '../integrity/domain/checkpoint.js';
import { digestLine, LogVerifier, type ExpectedRoot } from '../integrity/domain/log-verifier.js';
import { Frontier } from '../integrity/domain/merkle.js';
import { MerkleNodes } from '../integrity/sqlite/sqlite-merkle.js';
import { tenantStream } from '../ledger/domain/streams.js';
import { UsageError } from './verify.js';

const PAGE = 2000;

/** What a ledger.db from before the `merkle_tree` table is told (a command then says what to do next). */
export const EARLIER_LAYOUT = 'this ledger.db keeps its Merkle trees in an earlier layout: start the ledger once (it rebuilds them)';

/** Whether a ledger.db keeps its Merkle trees in the current layout (`merkle_tree`). */
export const hasMerkleLayout = (db: Database.Database): boolean => db.prepare("select 1 from sqlite_schema where name = 'merkle_tree'").get() !== undefined;

/** The tenants whose logs a ledger.db holds, in order. */
export const tenantLogs = (db: Database.Database): string[] =>
  (db.prepare("select distinct stream from events where stream like 'ledger-%' order by stream").pluck().all() as string[]).map((s) => s.slice(tenantStream('').length));

/**
 * `pdl verify --data-dir <dir>`: the ledger's self-check, read-only (it may run beside the server).
 * For each tenant log: every stored entry against the leaf hash kept since it was appended, positions
 * and chain, the stored tree's root, and every signed checkpoint (signature with the published keys,
 * root at its size).
 */
export async function verifyStore(dataDir: string, tenant: string | undefined, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const ledgerFile = join(dataDir, 'ledger.db');
  if (!existsSync(ledgerFile)) throw new UsageError(`${dataDir} holds no ledger (no ledger.db)`);
  const db = new Database(ledgerFile, { readonly: true, fileMustExist: true });
  const cpFile = join(dataDir, 'checkpoints.db');
  const cps = existsSync(cpFile) ? new Database(cpFile, { readonly: true, fileMustExist: true }) : null;
  const keysFile = join(dataDir, 'signing-keys.json');
  const keys = existsSync(keysFile) ? (JSON.parse(readFileSync(keysFile, 'utf8')) as { keys: Array<{ name: string; publicKey: string }> }).keys : [];
  try {
    if (!hasMerkleLayout(db)) {
      err(`${EARLIER_LAYOUT}, then verify`);
      return 2;
    }
    const holds = (t: string) => db.prepare('select 1 from events where stream = ? limit 1').get(tenantStream(t)) !== undefined;
    const tenants = tenant ? (holds(tenant) ? [tenant] : []) : tenantLogs(db);
    let failed = 0;
    for (const t of tenants) {
      const problem = checkStream(db, cps, keys, tenantStream(t));
      if (problem) { failed++; err(`FAILED ${t} at position ${problem.position}: ${problem.problem}`); }
      else out(`ok ${t}`);
    }
    if (tenants.length === 0) err(tenant ? `no tenant "${tenant}" in this ledger` : 'this ledger has no tenant yet');
    return failed ? 1 : tenants.length ? 0 : 2;
  } finally {
    db.close();
    cps?.close();
  }
}

function checkStream(db: Database.Database, cps: Database.Database | null, keys: ReadonlyArray<{ name: string; publicKey: string }>, stream: string) {
  const expected: ExpectedRoot[] = [];
  const rows = cps ? (cps.prepare('select tree_size, root, note from checkpoints where stream = ? order by tree_size').all(stream) as Array<{ tree_size: number; root: Buffer; note: string }>) : [];
  for (const c of rows) {
    const label = `the checkpoint signed at ${c.tree_size} entries`;
    if (!keys.some((k) => verifyNote(c.note, k.name, Buffer.from(k.publicKey, 'base64')))) return { position: c.tree_size - 1, problem: `${label} does not verify with any published key` };
    expected.push({ treeSize: c.tree_size, rootHash: c.root, label });
  }
  const verifier = new LogVerifier(expected);
  const tree = new MerkleNodes(db);
  const page = db.prepare('select revision, data from events where stream = ? and revision >= ? order by revision limit ?');
  for (let from = 0; ;) {
    const batch = page.all(stream, from, PAGE) as Array<{ revision: number; data: Buffer }>;
    if (batch.length === 0) break;
    const leaves = tree.leafMap(stream, from, batch[batch.length - 1]!.revision - from + 1);
    for (const e of batch) {
      const d = digestLine(e.data);
      const kept = leaves.get(e.revision);
      if (kept && !kept.equals(d.leaf)) return { position: e.revision, problem: 'the stored entry differs from the leaf hash kept since it was appended: it was changed in the store' };
      const p = verifier.entry(d);
      if (p) return p;
    }
    from = batch[batch.length - 1]!.revision + 1;
  }
  const end = verifier.end();
  if (end) return end;
  const src = tree.source(stream);
  try {
    if (!Frontier.at(src, verifier.size).root().equals(verifier.root())) return { position: verifier.size - 1, problem: 'the stored Merkle tree does not match the entries' };
  } catch (e) {
    return { position: verifier.size - 1, problem: `the stored Merkle tree is incomplete (${e instanceof Error ? e.message : String(e)})` };
  }
  return null;
}
