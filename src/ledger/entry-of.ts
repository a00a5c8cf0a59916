import { isLeft } from 'fp-ts/lib/Either.js';
import type { RecordedEvent } from './event-store.port.js';
import { decodeLogEntry, type LogEntry } from './domain/log-entry.js';

/** The log entry of a recorded event: the one the writer built, or decoded back from its stored bytes. */
export function entryOf(recorded: RecordedEvent, context?: unknown): LogEntry {
  if (context !== undefined) return context as LogEntry;
  const decoded = decodeLogEntry(JSON.parse(recorded.data.toString('utf8')));
  if (isLeft(decoded)) throw new Error(`stored entry at ${recorded.stream}@${recorded.revision} does not decode: ${decoded.left.map((e) => e.path).join(', ')}`);
  return decoded.right;
}
