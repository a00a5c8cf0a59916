import type { StreamAppend } from '../../ledger/event-store.port.js';

/** Messages between the main thread and the PostgreSQL append worker. */
export type PgAppendOperation =
  | { readonly op: 'append'; readonly appends: readonly StreamAppend[] }
  | { readonly op: 'lease' }
  | { readonly op: 'leaseAppend'; readonly lease: number; readonly appends: readonly StreamAppend[] }
  | { readonly op: 'release'; readonly lease: number }
  | { readonly op: 'heapStats' }
  | { readonly op: 'close' };

export type PgAppendRequest = PgAppendOperation & { readonly id: number };
