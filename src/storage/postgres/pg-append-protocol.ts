import type { PackedAppends } from '../worker-calls.js';

/** Messages between the main thread and the PostgreSQL append worker. */
export type PgAppendOperation =
  | { readonly op: 'append'; readonly appends: PackedAppends }
  | { readonly op: 'lease' }
  | { readonly op: 'leaseAppend'; readonly lease: number; readonly appends: PackedAppends }
  | { readonly op: 'release'; readonly lease: number }
  | { readonly op: 'heapStats' }
  | { readonly op: 'close' };

export type PgAppendRequest = PgAppendOperation & { readonly id: number };
