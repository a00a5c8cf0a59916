import type { AppendOutcome, RecordedEvent } from './event-store.port.js';

/** What projections said of a commit's events: event id → projection name → value. */
export type Notes = Map<string, Record<string, unknown>>;

/** Adds what projection `name` said (event id → value) to `notes`. */
export function note(notes: Notes, name: string, said: void | ReadonlyMap<string, unknown>): void {
  if (said) for (const [id, value] of said) notes.set(id, { ...notes.get(id), [name]: value });
}

/** The outcomes, each newly appended one with the notes of its own events (`annotations`). */
export function annotated(outcomes: readonly AppendOutcome[], applied: ReadonlyArray<ReadonlyArray<{ readonly recorded: RecordedEvent }>>, notes: Notes): AppendOutcome[] {
  if (notes.size === 0) return [...outcomes];
  return outcomes.map((o, i) => {
    if (o._tag !== 'Appended' || applied[i]!.length === 0) return o;
    const annotations = Object.fromEntries(applied[i]!.flatMap(({ recorded }) => (notes.has(recorded.eventId) ? [[recorded.eventId, notes.get(recorded.eventId)!]] : [])));
    return { ...o, annotations };
  });
}
