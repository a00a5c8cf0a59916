import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PdlConfig } from '../config/config.js';
import { loadMasterKey, parse, fingerprint, type MasterKey } from '../keys/master-key.js';
import { openEmbeddedStorage, type EmbeddedOptions } from './embedded-storage.js';
import type { Logger } from 'pino';
import { sharedSecrets } from './postgres/pg-secrets.js';
import type { LedgerStorage } from './storage.js';

/** The master key of the configured backend: `PDL_MASTER_KEY`, else the data directory's file (embedded) or the one the database keeps for its processes. */
export async function configuredMasterKey(config: PdlConfig): Promise<{ master: MasterKey; created: string | null }> {
  // A tool's: the master key of a ledger that exists (none is made for a mistyped data directory).
  if (config.store === 'sqlite') requireEmbeddedLedger(config.dataDir);
  if (config.store === 'sqlite' || config.masterKey) return loadMasterKey(config.masterKey, config.dataDir);
  const key = parse((await sharedSecrets(config.postgresUrl!)).masterKey)!;
  return { master: { key, id: fingerprint(key) }, created: null };
}

/**
 * The configured backend, for the server or, with `tool`, for a command (`pdl rebuild`, `pdl forget`, …):
 * then the embedded store must be a stopped ledger's (written on the calling thread); PostgreSQL and
 * EventStoreDB are shared with running ledgers.
 */
export async function openConfiguredStorage(config: PdlConfig, master: MasterKey, options: Pick<EmbeddedOptions, 'rebuild' | 'onWorkerLost'> & { tool?: boolean; log?: Logger } = {}): Promise<LedgerStorage> {
  const storage = await openBackend(config, master, options);
  try {
    // A wrong master key is refused here: else the ledger started healthy and failed every request that needed a key (500, 503).
    await storage.keyStore.checkMaster();
  } catch (e) {
    await storage.close();
    throw e;
  }
  return storage;
}

async function openBackend(config: PdlConfig, master: MasterKey, options: Pick<EmbeddedOptions, 'rebuild' | 'onWorkerLost'> & { tool?: boolean; log?: Logger }): Promise<LedgerStorage> {
  const rebuild = options.rebuild ? { rebuild: options.rebuild } : {};
  const lost = options.onWorkerLost ? { onWorkerLost: options.onWorkerLost } : {};
  // Each backend's modules are loaded only when it is the one configured (EventStoreDB's client alone takes
  // ~0.4 s to load: every start of the embedded ledger, and every command, paid for it).
  if (config.store === 'postgres') return (await import('./postgres-storage.js')).openPostgresStorage(config.postgresUrl!, master, { ...rebuild, ...lost, ...(options.tool ? { writes: 'in-thread' as const } : {}) });
  if (config.store === 'eventstoredb') return (await import('./eventstoredb-storage.js')).openEventStoreDbStorage(config.esdbUrl!, config.postgresUrl!, master, { ...rebuild, ...(options.log ? { log: options.log } : {}) });
  if (options.tool) requireEmbeddedLedger(config.dataDir);
  return openEmbeddedStorage(config.dataDir, master, { ...(options.tool ? { writes: 'in-thread' as const } : {}), ...rebuild, ...lost });
}

/** A tool pointed at a data directory that holds no ledger. */
export class NoLedger extends Error {}

/**
 * A tool that works on an existing embedded ledger refuses a data directory that holds none (a mistyped
 * path), before it reads or creates anything there.
 */
export function requireEmbeddedLedger(dataDir: string): void {
  if (!existsSync(join(dataDir, 'ledger.db'))) throw new NoLedger(`${dataDir} holds no ledger (no ledger.db): point PDL_DATA_DIR or --data-dir at a ledger's data directory`);
}
