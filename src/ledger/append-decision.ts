import type { AppendOutcome, StreamAppend } from './event-store.port.js';

/** The revision an append expects its stream to stand at (-1: empty), given where it stands (`actual`). */
export const expectedStart = (a: StreamAppend, actual: number | null): number =>
  a.expectedRevision === 'any' ? (actual ?? -1) : a.expectedRevision === 'no_stream' ? -1 : a.expectedRevision;

/**
 * What every event store answers an append that meets its stream at `actual`, its ids already standing
 * at the revisions in `found`: an idempotent repeat (every event already where this append would put
 * it), a stale expected revision, or reused ids (in the stream or twice in the append) — or null when
 * the append goes in as asked.
 */
export function appendObstacle(a: StreamAppend, actual: number | null, found: ReadonlyMap<string, number>): AppendOutcome | null {
  const ids = a.events.map((e) => e.eventId);
  const start = expectedStart(a, actual);
  const existing = ids.map((id) => found.get(id));
  if (ids.length > 0 && existing.every((r, i) => r !== undefined && r === start + 1 + i)) {
    return { _tag: 'Appended', stream: a.stream, firstRevision: start + 1, lastRevision: start + ids.length, idempotent: true };
  }
  if (a.expectedRevision !== 'any' && (actual ?? -1) !== start) return { _tag: 'WrongExpectedRevision', stream: a.stream, expected: a.expectedRevision, actual };
  const dups = [...new Set(ids.filter((id, i) => existing[i] !== undefined || ids.indexOf(id) !== i))];
  return dups.length ? { _tag: 'DuplicateEventIds', stream: a.stream, eventIds: dups } : null;
}
