import type { IndexEntry, LogMark, LogMarkKind, SubjectKeys } from '../keys/key-store.port.js';
import type { WrappedIndexKeyRow, WrappedKeyRow } from '../keys/sqlite/sqlite-key-writer.js';
import type { PackedAppends } from './worker-calls.js';

/** Messages between the main thread and the storage worker. */
export type WriteOperation =
  | { readonly op: 'append'; readonly appends: PackedAppends }
  | { readonly op: 'insertKeys'; readonly indexKeys: readonly WrappedIndexKeyRow[]; readonly keys: readonly WrappedKeyRow[] }
  | { readonly op: 'addIndexEntries'; readonly tenant: string; readonly entries: readonly IndexEntry[]; readonly position: number }
  | { readonly op: 'flushIndex' }
  | { readonly op: 'destroyKeys'; readonly tenant: string; readonly keys: readonly SubjectKeys[]; readonly index: readonly IndexEntry[] }
  | { readonly op: 'setHold'; readonly tenant: string; readonly subject: string; readonly category: string; readonly hold: { until: string; purpose: string; legalBasis: string } | null }
  | { readonly op: 'setMark'; readonly tenant: string; readonly kind: LogMarkKind; readonly mark: LogMark }
  | { readonly op: 'flushLog' }
  | { readonly op: 'heapStats' }
  | { readonly op: 'close' };

export type WriteRequest = WriteOperation & { readonly id: number };

