import type { InlineProjection } from '../../ledger/event-store.port.js';
import { entryOf } from '../../ledger/entry-of.js';
import { PROCESSING_TYPES } from '../../ledger/domain/processing-event.js';
import { leafHash } from '../../ledger/domain/canonical.js';
import type { Db } from '../../common/sqlite/open-database.js';
import { sortableInstant } from '../../common/kernel/time.js';

const SCHEMA = `
create table if not exists audit_events (
  tenant text not null, position integer not null, stream text not null, type text not null,
  subject text not null, purpose text not null, system text not null, recipient text,
  categories text not null, occurred_at text not null, recorded_at text not null, hash blob not null,
  primary key (tenant, position)) without rowid;
create index if not exists audit_events_subject on audit_events (tenant, subject, position);
`;

const PROCESSING = new Set<string>(PROCESSING_TYPES);

/** The audit trail's index: one row per processing event, searchable without decrypting anything. */
export function auditTrailProjection(db: Db): InlineProjection<Db> {
  db.exec(SCHEMA);
  const insert = db.prepare(`insert or ignore into audit_events
    (tenant, position, stream, type, subject, purpose, system, recipient, categories, occurred_at, recorded_at, hash)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  return {
    name: 'audit-trail',
    apply(_tx, events) {
      for (const { recorded, context } of events) {
        if (!PROCESSING.has(recorded.type)) continue;
        const e = entryOf(recorded, context);
        if (!('subject' in e)) continue;
        const recipient = typeof e.details?.recipient === 'string' ? e.details.recipient : null;
        insert.run(e.tenant, e.position, recorded.stream, e.type, e.subject.id, e.purpose, e.system, recipient,
          `\u0001${e.categories.join('\u0001')}\u0001`, sortableInstant(e.occurredAt), sortableInstant(e.recordedAt), leafHash(recorded.data));
      }
    },
  };
}
