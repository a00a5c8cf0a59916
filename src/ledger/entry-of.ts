import { isLeft } from 'fp-ts/lib/Either.js';
import type { RecordedEvent } from './event-store.port.js';
import { decodeLogEntry, type LogEntry } from './domain/log-entry.js';
import { residencyOf } from '../tenancy/domain/tenant.js';

/** The log entry of a recorded event: the one the writer built, or decoded back from its stored bytes. */
export function entryOf(recorded: RecordedEvent, context?: unknown): LogEntry {
  if (context !== undefined) return context as LogEntry;
  const decoded = decodeLogEntry(JSON.parse(recorded.data.toString('utf8')));
  if (isLeft(decoded)) throw new Error(`stored entry at ${recorded.stream}@${recorded.revision} does not decode: ${decoded.left.map((e) => e.path).join(', ')}`);
  return decoded.right;
}

/**
 * An entry read back for an answer, parsed without validating it again: it was validated before it was
 * written, the store is written by the ledger alone, and its bytes are under the Merkle tree (`pdl
 * verify` and the exports check them). Folding projections and verification decode in full (`entryOf`).
 */
export function storedEntryOf(data: Buffer | string): LogEntry {
  const parsed = JSON.parse(typeof data === 'string' ? data : data.toString('utf8')) as LogEntry;
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.type !== 'string' || parsed.v !== 1) throw new Error('a stored entry is not a log entry');
  return parsed;
}

/**
 * A stored event handed to projections or indexes without the entry a writer built (folding a replica,
 * completing deferred indexes): its entry parsed from its bytes (`storedEntryOf`) the first time one asks
 * for it, then kept for the others. Parsed, not decoded again: decoding rewrites some of the text
 * (instants normalised), so the same log would answer differently than where the writer's entry was folded.
 */
export function withStoredEntry(recorded: RecordedEvent): { readonly recorded: RecordedEvent; readonly context: LogEntry } {
  let entry: LogEntry | undefined;
  return { recorded, get context() { return (entry ??= storedEntryOf(recorded.data)); } };
}

/** The residency a stored `tenant-declared` entry declared (the default, for no entry). */
export function residencyDeclaredIn(data: Buffer | undefined): readonly string[] {
  const entry = data ? storedEntryOf(data) : undefined;
  return residencyOf(entry?.type === 'tenant-declared' ? entry.settings : undefined);
}
