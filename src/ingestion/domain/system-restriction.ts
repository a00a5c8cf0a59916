import type { ProcessingEvent } from '../../ledger/domain/processing-event.js';
import type { Principal } from '../../tenancy/domain/roles.js';

/** The systems named by `events` that the principal's token may not report for (empty when all are allowed). */
export function systemsOutsideToken(principal: Principal, events: readonly ProcessingEvent[]): string[] {
  if (principal.kind !== 'token' || principal.systems === null) return [];
  const allowed = new Set(principal.systems);
  return [...new Set(events.map((e) => e.system).filter((s) => !allowed.has(s)))];
}
