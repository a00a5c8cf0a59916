/**
 * The event store, shaped like EventStoreDB so that an adapter for it is a translation, not a redesign:
 * named streams with a revision per stream, a global position across streams, idempotent event ids,
 * and appends guarded by the expected revision of the stream.
 */
export interface NewEvent {
  readonly eventId: string;
  readonly type: string;
  /** The exact bytes to store (the ledger's canonical JSON). */
  readonly data: Uint8Array;
  /** SHA-256(0x00 ‖ data), when the caller has it already (projections need not compute it again). */
  readonly leafHash?: Uint8Array;
  /** Handed to inline projections with the recorded event; never stored. */
  readonly context?: unknown;
}

export interface RecordedEvent {
  readonly stream: string;
  /** 0-based revision within the stream. */
  readonly revision: number;
  /** Position in the store's global order; increases with each commit. */
  readonly globalPosition: bigint;
  readonly eventId: string;
  readonly type: string;
  readonly data: Buffer;
  /** SHA-256(0x00 ‖ data), when known (set for the inline projections of an append). */
  readonly leafHash?: Buffer;
}

/** `no_stream`: the stream must not exist; a number: its last revision must be exactly that. */
export type ExpectedRevision = 'no_stream' | 'any' | number;

export interface StreamAppend {
  readonly stream: string;
  readonly expectedRevision: ExpectedRevision;
  readonly events: readonly NewEvent[];
  /**
   * The events are ledger entries (their objects in `context`) whose content does not depend on what
   * precedes them: when other processes appended after `expectedRevision` (and none of these ids is in
   * the stream), a store that can (PostgreSQL, under its append lock) places them after those and links
   * them again (positions, `prev`, bytes, hashes: `Appended.relinked`) instead of answering
   * `WrongExpectedRevision`. Stores written by one process only may ignore it.
   */
  readonly relink?: boolean;
  /**
   * The leaf hash (hex) of the entry at `expectedRevision` as the appender knows it (the `prev` of its
   * first event): a store that checks it answers `WrongExpectedRevision` when another entry stands
   * there, so an append planned on an entry that never committed is never chained to another.
   */
  readonly expectedHead?: string;
}

export type AppendOutcome =
  | {
    readonly _tag: 'Appended'; readonly stream: string; readonly firstRevision: number; readonly lastRevision: number; readonly idempotent: boolean;
    /** What inline projections said of the new events: event id → projection name → value (e.g. findings). */
    readonly annotations?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
    /** The events were linked again after other processes' appends (see `StreamAppend.relink`): their leaf hashes (hex), in order. */
    readonly relinked?: readonly string[];
  }
  | { readonly _tag: 'WrongExpectedRevision'; readonly stream: string; readonly expected: ExpectedRevision; readonly actual: number | null }
  | { readonly _tag: 'DuplicateEventIds'; readonly stream: string; readonly eventIds: readonly string[] };

export interface EventStore {
  /**
   * Appends to one or more streams in a single durable commit: when the promise resolves, every
   * `Appended` outcome is on disk. Each stream append succeeds or fails whole, on its own revision.
   * Re-appending events whose ids already follow the expected revision is an idempotent success.
   */
  append(appends: readonly StreamAppend[]): Promise<AppendOutcome[]>;
  /** Last revision of a stream, or null when it does not exist. */
  streamRevision(stream: string): Promise<number | null>;
  readStream(stream: string, fromRevision: number, maxCount: number): Promise<RecordedEvent[]>;
  readAll(fromGlobalPosition: bigint, maxCount: number): Promise<RecordedEvent[]>;
  /** The recorded events of `stream` among `eventIds`. */
  findByEventIds(stream: string, eventIds: readonly string[]): Promise<RecordedEvent[]>;
  /**
   * Stores that other processes append to as well: holds every other appender off until released, so
   * that a writer that keeps losing the race for a log's next revision can prepare and append in turn.
   */
  lease?(): Promise<AppendLease>;
  /**
   * Appends are applied one after another in the order they were made, each checked against the log as
   * the ones before left it (committed or not): a writer may make the next before the last is answered.
   */
  readonly ordered?: boolean;
  close(): Promise<void>;
}

/** A turn at appending alone (see `EventStore.lease`): appends made through it, then released. */
export interface AppendLease {
  append(appends: readonly StreamAppend[]): Promise<AppendOutcome[]>;
  release(): Promise<void>;
}

/** A projection run inside the append's own transaction (embedded store), so it never lags the log. */
export interface InlineProjection<Tx> {
  readonly name: string;
  /** Folds the events in; may answer something per event id, handed back with the append's outcome. */
  apply(tx: Tx, events: ReadonlyArray<{ readonly recorded: RecordedEvent; readonly context: unknown }>): void | ReadonlyMap<string, unknown>;
}
