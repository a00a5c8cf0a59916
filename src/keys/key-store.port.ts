/** Identifies a data key: one per (tenant, subject, category). */
export interface KeyRef {
  readonly subject: string;
  readonly category: string;
}

export interface DataKey {
  readonly generation: number;
  readonly key: Buffer;
}

export interface IndexEntry {
  readonly hmac: Buffer;
  readonly subject: string;
  readonly category: string;
}

/** Some categories of one subject's keys. */
export interface SubjectKeys {
  readonly subject: string;
  readonly categories: readonly string[];
}

export interface KeyHold {
  readonly tenant: string;
  readonly subject: string;
  readonly category: string;
  /** Fixed-width UTC text. */
  readonly until: string;
  readonly purpose: string;
  readonly legalBasis: string;
}

/**
 * Another ledger process sharing the key storage created a key this one staged too (same subject and
 * category, or the tenant's index key): nothing of the commit was written; prepare it again, with theirs.
 */
export class KeyRace extends Error {
  constructor() {
    super('another ledger process created the same data key first');
  }
}

export const keyRefId = (r: KeyRef): string => `${r.subject}\u0000${r.category}`;

/**
 * Data keys (wrapped by the master key) and blind-index entries, kept apart from the log so that a
 * copy of the log alone never reveals a personal value. New keys are staged and made durable by
 * `commit`, which the ledger awaits before it commits the log entries that use them. The blind index
 * is a projection of the log: written after the log commit without its own fsync, with a checkpoint
 * per tenant from which it is completed again after a crash.
 */
export interface KeyStore {
  /** The live keys for `refs`; with `create`, missing ones are made and staged. Absent: none live. */
  dataKeys(tenant: string, refs: readonly KeyRef[], create: boolean): Promise<Map<string, DataKey>>;
  /** A specific generation of a key, to open an older ciphertext; null once destroyed. */
  dataKeyGeneration(tenant: string, ref: KeyRef, generation: number): Promise<Buffer | null>;
  /** The tenant's blind-index key, created and staged on first use. */
  indexKey(tenant: string): Promise<Buffer>;
  /** The tenant's blind-index key if it has one (a lookup never creates it). */
  existingIndexKey(tenant: string): Promise<Buffer | null>;
  /** Makes every staged key durable. */
  commit(): Promise<void>;
  /** Adds blind-index entries for the tenant's log up to `position` (inclusive) and moves its checkpoint. */
  addIndexEntries(tenant: string, entries: readonly IndexEntry[], position: number): Promise<void>;
  /** The last log position whose entries are in the blind index, or -1. */
  indexCheckpoint(tenant: string): Promise<number>;
  /** Drops the keys staged and not yet taken by a `commit` (one may still be writing its own), after a failed log commit. */
  discard(): void;
  /** Subjects whose identifiers hash to `hmac`. */
  lookup(tenant: string, hmac: Buffer): Promise<Array<{ subject: string; category: string }>>;
  /** The categories of the subject that still have a data key, with when their newest key was made. */
  liveKeys(tenant: string, subject: string): Promise<LiveKey[]>;
  /**
   * Crypto-shredding: destroys every generation of the subject's keys for `categories` and the given
   * blind-index entries, leaving no recoverable bytes (secure delete, write-ahead log checkpointed and
   * truncated). Idempotent.
   */
  destroy(tenant: string, keys: readonly SubjectKeys[], index: readonly IndexEntry[]): Promise<void>;
  /** Keys kept under a legal hold after their data was erased: until when, and why. */
  holds(tenant?: string, dueBy?: string): Promise<KeyHold[]>;
  /** Records (or clears, with `until` null) the hold of a subject's category. */
  setHold(tenant: string, subject: string, category: string, hold: { until: string; purpose: string; legalBasis: string } | null): Promise<void>;
  /** How far in the tenant's log the work `kind` has been done (see `LogMark`), if ever. */
  logMark(tenant: string, kind: LogMarkKind): Promise<LogMark | null>;
  setLogMark(tenant: string, kind: LogMarkKind, mark: LogMark): Promise<void>;
  /** Refuses (`WrongMasterKey`) a master key other than the one the stored keys are wrapped under. */
  checkMaster(): Promise<void>;
  close(): void;
}

/** `KeyReads.masterIds` in SQL (both stores): one row per tenant's index key, and one data key (their table may hold millions). */
export const MASTER_IDS = 'select master_id from index_keys union select master_id from (select master_id from data_keys limit 1) as one_data_key';

/** The master key given is not the one that wrapped the keys already stored (`PDL_MASTER_KEY`, `master.key`). */
export class WrongMasterKey extends Error {
  constructor(given: string, stored: readonly string[]) {
    super(`the master key given (id ${given}) is not the one this ledger's keys are wrapped under (id ${stored.join(', ')}): `
      + 'start with that key (PDL_MASTER_KEY, or the master.key file of the data directory), or re-wrap the keys under another with pdl keys rotate-master');
  }
}

/** A category of a subject that has a data key: when its newest key was made (ISO 8601). */
export interface LiveKey {
  readonly category: string;
  readonly createdAt: string;
}

/**
 * What the key store keeps track of in each tenant's log: `erasure-sweep`, every erasure up to the mark
 * has been shredded; `key-reconcile`, every key destruction recorded up to the mark has been carried out.
 */
export type LogMarkKind = 'erasure-sweep' | 'key-reconcile';

/**
 * A work done through the tenant's log up to `position`; `hash` is the leaf hash of the entry there, so
 * that a mark that no longer matches its log (restored from another backup) is ignored.
 */
export interface LogMark {
  readonly position: number;
  readonly hash: string;
}

/** A data key as stored: wrapped by the master key, never in clear. */
export interface WrappedKeyRow {
  readonly tenant: string;
  readonly subject: string;
  readonly category: string;
  readonly generation: number;
  readonly wrapped: Uint8Array;
  readonly masterId: string;
  readonly createdAt: string;
}
export interface WrappedIndexKeyRow {
  readonly tenant: string;
  readonly wrapped: Uint8Array;
  readonly masterId: string;
}

/** What a key store's storage is asked to read. */
export interface KeyReads {
  live(tenant: string, subject: string, category: string): Promise<{ generation: number; wrapped: Buffer } | undefined>;
  /** `live` of many keys at once (by `keyRefId`): those that exist. */
  liveMany(tenant: string, refs: readonly KeyRef[]): Promise<Map<string, { generation: number; wrapped: Buffer }>>;
  generation(tenant: string, subject: string, category: string, generation: number): Promise<Buffer | undefined>;
  indexKey(tenant: string): Promise<Buffer | undefined>;
  lookup(tenant: string, hmac: Buffer): Promise<Array<{ subject: string; category: string }>>;
  checkpoint(tenant: string): Promise<number | undefined>;
  liveKeys(tenant: string, subject: string): Promise<LiveKey[]>;
  holds(tenant: string | null, dueBy: string): Promise<KeyHold[]>;
  mark(tenant: string, kind: LogMarkKind): Promise<LogMark | undefined>;
  /** The ids of the master keys under which the stored blind-index keys, and a data key, are wrapped (none in a new store). */
  masterIds(): Promise<string[]>;
  close(): void;
}

/** What a key store's storage is asked to write. */
export interface KeyWrites {
  /** Makes keys durable (fsync) before any log entry that uses them is committed. */
  insertKeys(indexKeys: readonly WrappedIndexKeyRow[], keys: readonly WrappedKeyRow[]): Promise<void>;
  /** Blind-index entries and the tenant's index checkpoint (the embedded store writes them in groups, without fsync). */
  addIndexEntries(tenant: string, entries: readonly IndexEntry[], position: number): Promise<void>;
  /** Writes what is buffered, so that reads on another connection see it. */
  flushIndex(): Promise<void>;
  /** Destroys keys and blind-index entries for good (see `KeyStore.destroy`). */
  destroyKeys(tenant: string, keys: readonly SubjectKeys[], index: readonly IndexEntry[]): Promise<void>;
  setHold(tenant: string, subject: string, category: string, hold: { until: string; purpose: string; legalBasis: string } | null): Promise<void>;
  setMark(tenant: string, kind: LogMarkKind, mark: LogMark): Promise<void>;
}
