import type { Db } from '../../common/sqlite/open-database.js';
import { sortableInstant } from '../../common/kernel/time.js';
import { entryOf } from '../../ledger/entry-of.js';
import type { LogEntry } from '../../ledger/domain/log-entry.js';
import type { SqliteProjection } from '../../ledger/sqlite/sqlite-log-appender.js';

/**
 * Each change keeps the log position that made it (`*_position`), so that a request can be shown as it
 * stood at any past position (`asOf`).
 */
export const REQUESTS_SCHEMA = `
create table if not exists subject_requests (
  tenant text not null, id text not null, type text not null, subject text not null, received_at text not null, due_at text not null,
  extended_reason text, extended_position integer, completed_at text, completed_position integer, outcome text, reason text,
  position integer not null, event_id text not null, primary key (tenant, id));
create index if not exists subject_requests_due on subject_requests (tenant, due_at);
create index if not exists subject_requests_subject on subject_requests (tenant, subject);
create table if not exists authority_requests (
  tenant text not null, id text not null, authority text not null, reference text not null, legal_basis text not null,
  received_at text not null, subjects text not null, sealed integer not null, decision text, rationale text, decided_at text,
  decided_position integer, closed_at text, closed_position integer, unsealed_position integer, position integer not null,
  primary key (tenant, id));
create table if not exists authority_request_subjects (tenant text not null, subject text not null, id text not null, primary key (tenant, subject, id));
create table if not exists authority_disclosures (tenant text not null, request text not null, position integer not null, primary key (tenant, request, position));
create table if not exists forgotten_subjects (tenant text not null, subject text not null, position integer not null, reason text, primary key (tenant, subject));
create table if not exists destroyed_keys (
  tenant text not null, subject text not null, category text not null, position integer not null, recorded_at text not null,
  reason text not null, request text, event_id text not null, primary key (tenant, subject, category, position));
`;
export const REQUESTS_TABLES = ['subject_requests', 'authority_requests', 'authority_request_subjects', 'authority_disclosures', 'forgotten_subjects', 'destroyed_keys'];

type RequestEntry = Extract<LogEntry, { type: `${'subject' | 'authority'}-request-${string}` }>;

const TYPES = new Set<string>(['subject-request-received', 'subject-request-extended', 'subject-request-completed', 'authority-request-received', 'authority-request-decided', 'authority-request-closed', 'authority-request-unsealed', 'subject-forgotten', 'key-destroyed']);

/** Subject and authority requests, folded from their log entries, and the disclosures made under each authority request. */
export function requestsProjection(db: Db): SqliteProjection {
  db.exec(REQUESTS_SCHEMA);
  const p = (sql: string) => db.prepare(sql);
  const s = {
    received: p('insert or ignore into subject_requests (tenant, id, type, subject, received_at, due_at, position, event_id) values (?, ?, ?, ?, ?, ?, ?, ?)'),
    extended: p('update subject_requests set due_at = ?, extended_reason = ?, extended_position = ? where tenant = ? and id = ?'),
    completed: p('update subject_requests set completed_at = ?, outcome = ?, reason = ?, completed_position = ? where tenant = ? and id = ?'),
    arReceived: p('insert or ignore into authority_requests (tenant, id, authority, reference, legal_basis, received_at, subjects, sealed, position) values (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    arSubject: p('insert or ignore into authority_request_subjects (tenant, subject, id) values (?, ?, ?)'),
    arDecided: p('update authority_requests set decision = ?, rationale = ?, decided_at = ?, decided_position = ? where tenant = ? and id = ?'),
    arClosed: p('update authority_requests set closed_at = ?, closed_position = ? where tenant = ? and id = ?'),
    arUnsealed: p('update authority_requests set unsealed_position = ? where tenant = ? and id = ?'),
    disclosed: p('insert or ignore into authority_disclosures (tenant, request, position) values (?, ?, ?)'),
    forgotten: p('insert or ignore into forgotten_subjects (tenant, subject, position, reason) values (?, ?, ?, ?)'),
    destroyed: p('insert or ignore into destroyed_keys (tenant, subject, category, position, recorded_at, reason, request, event_id) values (?, ?, ?, ?, ?, ?, ?, ?)'),
  };
  return {
    name: 'requests',
    rebuild: { tables: REQUESTS_TABLES, schema: REQUESTS_SCHEMA },
    apply(_tx, events) {
      for (const { recorded, context } of events) {
        if (recorded.type === 'disclosed') {
          const e = entryOf(recorded, context);
          const request = 'details' in e ? e.details?.authorityRequestId : undefined;
          if (typeof request === 'string') s.disclosed.run(e.tenant, request, e.position);
          continue;
        }
        if (!TYPES.has(recorded.type)) continue;
        const any = entryOf(recorded, context);
        if (any.type === 'subject-forgotten') { s.forgotten.run(any.tenant, any.forget.subject, any.position, any.forget.reason ?? null); continue; }
        if (any.type === 'key-destroyed') { s.destroyed.run(any.tenant, any.shred.subject, any.shred.category, any.position, sortableInstant(any.recordedAt), any.shred.reason, any.shred.request ?? null, any.eventId); continue; }
        const e = any as RequestEntry;
        const at = sortableInstant(e.recordedAt);
        switch (e.type) {
          case 'subject-request-received': { const r = e.request; s.received.run(e.tenant, r.id, r.type, r.subject, sortableInstant(r.receivedAt), sortableInstant(r.dueAt), e.position, e.eventId); break; }
          case 'subject-request-extended': s.extended.run(sortableInstant(e.request.dueAt), e.request.reason, e.position, e.tenant, e.request.id); break;
          case 'subject-request-completed': s.completed.run(at, e.request.outcome, e.request.reason ?? null, e.position, e.tenant, e.request.id); break;
          case 'authority-request-received': {
            const r = e.request;
            s.arReceived.run(e.tenant, r.id, r.authority, r.reference, r.legalBasis, sortableInstant(r.receivedAt), JSON.stringify(r.subjects), r.sealed ? 1 : 0, e.position);
            for (const subject of r.subjects) s.arSubject.run(e.tenant, subject, r.id);
            break;
          }
          case 'authority-request-decided': s.arDecided.run(e.request.decision, e.request.rationale, at, e.position, e.tenant, e.request.id); break;
          case 'authority-request-closed': s.arClosed.run(at, e.position, e.tenant, e.request.id); break;
          case 'authority-request-unsealed': s.arUnsealed.run(e.position, e.tenant, e.request.id); break;
        }
      }
    },
  };
}
