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

export const keyRefId = (r: KeyRef): string => `${r.subject}\u0000${r.category}`;

/**
 * Data keys (wrapped by the master key) and blind-index entries, kept apart from the log so that a
 * copy of the log alone never reveals a personal value. Writes are staged and made durable by
 * `commit`, which the ledger awaits before it commits the log entries that use them.
 */
export interface KeyStore {
  /** The live keys for `refs`; with `create`, missing ones are made and staged. Absent: none live. */
  dataKeys(tenant: string, refs: readonly KeyRef[], create: boolean): Promise<Map<string, DataKey>>;
  /** A specific generation of a key, to open an older ciphertext; null once destroyed. */
  dataKeyGeneration(tenant: string, ref: KeyRef, generation: number): Promise<Buffer | null>;
  /** The tenant's blind-index key, created and staged on first use. */
  indexKey(tenant: string): Promise<Buffer>;
  stageIndexEntries(tenant: string, entries: readonly IndexEntry[]): void;
  /** Makes every staged key and index entry durable. */
  commit(): Promise<void>;
  /** Drops staged writes after a failed log commit. */
  discard(): void;
  /** Subjects whose identifiers hash to `hmac`. */
  lookup(tenant: string, hmac: Buffer): Promise<Array<{ subject: string; category: string }>>;
  close(): void;
}
