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
  /** Drops staged writes after a failed log commit. */
  discard(): void;
  /** Subjects whose identifiers hash to `hmac`. */
  lookup(tenant: string, hmac: Buffer): Promise<Array<{ subject: string; category: string }>>;
  /** The categories of the subject that still have a data key. */
  liveCategories(tenant: string, subject: string): Promise<string[]>;
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
  close(): void;
}
