import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomIds } from '../common/kernel/ids.js';
import { sortableInstant, systemClock } from '../common/kernel/time.js';
import { IdentifierVault } from '../keys/application/identifier-vault.js';
import { Shredder } from '../keys/application/shredder.js';
import { LogMarks } from '../keys/application/log-marks.js';
import { fingerprint, loadMasterKey, parse, type MasterKey } from '../keys/master-key.js';
import { newKey } from '../keys/domain/sealing.js';
import { rotateMaster } from '../keys/sqlite/rotate-master.js';
import { LedgersRunning, rotatePgMaster } from '../keys/postgres/rotate-master.js';
import { KEYS_SCHEMA } from '../keys/postgres/pg-key-store.js';
import { SECRETS_SCHEMA } from '../storage/postgres/pg-secrets.js';
import { lockDataDir } from '../common/sqlite/data-dir-lock.js';
import { LedgerWriter } from '../ledger/application/ledger-writer.js';
import type { DraftEntry } from '../ledger/domain/log-entry.js';
import type { PdlConfig } from '../config/config.js';
import { configuredMasterKey, openConfiguredStorage } from '../storage/open-storage.js';
import type { LedgerStorage } from '../storage/storage.js';
import { UsageError } from './verify.js';

/** The ledger's store (the embedded one of a stopped ledger, or PostgreSQL), with the shredder the server uses, for the erasure commands. */
async function withShredder<T>(config: PdlConfig, work: (s: Shredder, writer: LedgerWriter, storage: LedgerStorage) => Promise<T>): Promise<T> {
  const { master } = await configuredMasterKey(config);
  const storage = await openConfiguredStorage(config, master, { tool: true });
  const vault = new IdentifierVault(storage.keyStore);
  const writer = new LedgerWriter(storage.eventStore, storage.keyStore, vault, systemClock);
  const shredder = new Shredder(storage.keyStore, storage.retention, storage.requests, storage.auditTrail, storage.flushDeferred, systemClock, randomIds, vault, writer);
  try {
    await shredder.reconcile(await storage.tenants.tenantIds(), new LogMarks(storage.keyStore, storage.merkle));
    return await work(shredder, writer, storage);
  } finally {
    await writer.drain();
    await storage.close();
  }
}

/**
 * `pdl retention enforce [--at T]`: shreds what every recorded erasure allows (in case it was not done
 * when recorded), then destroys the keys whose legal hold has ended by `at` (default now).
 */
export function enforce(config: PdlConfig, at: string | undefined, out: (s: string) => void): Promise<number> {
  return withShredder(config, async (shredder, _writer, storage) => {
    const when = sortableInstant(at ?? new Date());
    for (const tenant of await storage.tenants.tenantIds()) await shredder.sweep(tenant, -1);
    const { destroyed, held } = await shredder.enforce(when);
    out(`destroyed ${destroyed} key${destroyed === 1 ? '' : 's'} whose legal hold ended by ${when}; ${held} still held`);
    return 0;
  });
}

/**
 * `pdl forget <subject> --tenant <t> [--reason text]`: records that the subject is to be forgotten as a
 * whole, then destroys every key of it that no legal hold keeps.
 */
export function forget(config: PdlConfig, tenant: string, subject: string, reason: string | undefined, out: (s: string) => void): Promise<number> {
  return withShredder(config, async (shredder, writer, storage) => {
    if (!(await storage.tenants.tenant(tenant))) throw new UsageError(`no tenant "${tenant}" in this ledger`);
    // A mistyped id would be recorded for good, forgetting no one: only a subject with processing events has keys.
    if ((await storage.auditTrail.page(tenant, { subject }, -1, 1)).length === 0) throw new UsageError(`nothing was recorded about a subject "${subject}" in tenant "${tenant}": nothing to forget, and nothing recorded`);
    const draft = { type: 'subject-forgotten', eventId: randomIds.uuid(), actor: { type: 'admin', id: 'cli' }, forget: { subject, ...(reason ? { reason } : {}) } } as DraftEntry;
    const recorded = await writer.appendFacts(tenant, [draft]);
    if (recorded._tag === 'Left') throw new Error(`could not record the request to forget: ${recorded.left._tag}`);
    const plan = await shredder.forget(tenant, subject);
    if (plan._tag === 'Left') throw new Error(`could not destroy the keys: ${plan.left._tag}`);
    const destroyed = plan.right.filter((s) => s.action === 'destroy').map((s) => s.category);
    const held = plan.right.flatMap((s) => (s.action === 'hold' ? [`${s.category} (held until ${s.until} by ${s.legalBasis})`] : []));
    out(`${subject}: destroyed the keys of ${destroyed.length ? destroyed.join(', ') : 'nothing'}${held.length ? `; kept under a legal hold: ${held.join(', ')}` : ''}`);
    return 0;
  });
}

/** The master key to rotate to: `PDL_NEW_MASTER_KEY`, or a new one; never the current one. */
function nextMaster(current: MasterKey, nextFromEnv: string | undefined): MasterKey {
  const key = nextFromEnv ? parse(nextFromEnv) : newKey();
  if (!key) throw new UsageError('PDL_NEW_MASTER_KEY must be 32 bytes, as 64 hex digits or base64');
  const next = { key, id: fingerprint(key) };
  if (next.id === current.id) throw new UsageError('the new master key is the current one');
  return next;
}

/**
 * `pdl keys rotate-master` on PostgreSQL (also the keys of an EventStoreDB ledger): every key re-wrapped
 * under the new master in one transaction, every ledger process stopped. The master key kept in the
 * database (no `PDL_MASTER_KEY`) is replaced in the same transaction; one given by the environment is
 * the operator's to replace before the next start.
 */
export async function rotateMasterKeyOnPostgres(config: PdlConfig, nextFromEnv: string | undefined, out: (s: string) => void): Promise<number> {
  const { master: current } = await configuredMasterKey(config);
  const next = nextMaster(current, nextFromEnv);
  const kept = !config.masterKey;
  let n: number;
  try {
    n = await rotatePgMaster(config.postgresUrl!, KEYS_SCHEMA, current, next, kept ? SECRETS_SCHEMA : null);
  } catch (e) {
    if (e instanceof LedgersRunning) throw new UsageError(e.message);
    throw e;
  }
  out(`re-wrapped ${n} keys under master key ${next.id} (was ${current.id})`);
  if (kept) out(`the new master key is the one kept in the database (schema ${SECRETS_SCHEMA}); the old one is gone`);
  else out(nextFromEnv ? 'start the ledgers with PDL_MASTER_KEY set to the new key (PDL_NEW_MASTER_KEY)' : `set PDL_MASTER_KEY to ${next.key.toString('base64')} before the next start`);
  return 0;
}

/**
 * `pdl keys rotate-master`: re-wraps every key of a stopped ledger under a new master key
 * (`PDL_NEW_MASTER_KEY`, or a new one written to `master.key` when the key lives in that file).
 */
export function rotateMasterKey(dataDir: string, masterFromEnv: string | undefined, nextFromEnv: string | undefined, out: (s: string) => void): number {
  if (!existsSync(join(dataDir, 'keys.db'))) throw new UsageError(`${dataDir} holds no key store (no keys.db)`);
  const current = loadMasterKey(masterFromEnv, dataDir).master;
  const next = nextMaster(current, nextFromEnv);
  const lock = lockDataDir(dataDir);
  try {
    const n = rotateMaster(dataDir, current, next, !masterFromEnv);
    out(`re-wrapped ${n} keys under master key ${next.id} (was ${current.id})`);
    if (!masterFromEnv) out(`the new master key is in ${join(dataDir, 'master.key')}; the old one is gone`);
    else out(nextFromEnv ? 'start the ledger with PDL_MASTER_KEY set to the new key (PDL_NEW_MASTER_KEY)' : `set PDL_MASTER_KEY to ${next.key.toString('base64')} before the next start`);
  } finally {
    lock.release();
  }
  return 0;
}
