import { canonicalBytes } from './canonical.js';
import type { ProcessingEntry } from './log-entry.js';
import type { ProcessingEvent } from './processing-event.js';

const ERASED = '[erased]';

/** The event as its emitter sent it, rebuilt from a stored entry and its opened identifiers. */
export function submittedForm(entry: ProcessingEntry, identifiers?: Record<string, string>): ProcessingEvent {
  return {
    eventId: entry.eventId,
    type: entry.type,
    subject: identifiers && Object.keys(identifiers).length ? { id: entry.subject.id, identifiers } : { id: entry.subject.id },
    categories: entry.categories,
    purpose: entry.purpose,
    system: entry.system,
    occurredAt: entry.occurredAt,
    ...(entry.actor ? { actor: entry.actor } : {}),
    ...(entry.details ? { details: entry.details } : {}),
  };
}

/**
 * Whether a re-sent event is the same as the recorded one. An identifier the ledger has forgotten
 * (`[erased]`) cannot be compared and is taken as equal: erasure must not turn retries into conflicts.
 */
export function sameSubmission(sent: ProcessingEvent, recorded: ProcessingEvent): boolean {
  const ids = recorded.subject.identifiers;
  let comparable = sent;
  if (ids && sent.subject.identifiers) {
    const masked = { ...sent.subject.identifiers };
    for (const [k, v] of Object.entries(ids)) if (v === ERASED && k in masked) masked[k] = ERASED;
    comparable = { ...sent, subject: { ...sent.subject, identifiers: masked } };
  }
  return canonicalBytes(comparable).equals(canonicalBytes(recorded));
}
