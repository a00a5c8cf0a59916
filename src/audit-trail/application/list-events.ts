import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { IdentifierVault } from '../../keys/application/identifier-vault.js';
import { submittedForm } from '../../ledger/domain/submission.js';
import type { ProcessingEvent } from '../../ledger/domain/processing-event.js';
import { encodeCursor, type Page } from '../../common/kernel/paging.js';
import { AUDIT_TRAIL_READ_MODEL, type AuditFilter, type AuditTrailReadModel } from '../audit-trail-read-model.port.js';

export interface AuditItem {
  readonly position: number;
  readonly hash: string;
  readonly recordedAt: string;
  /** The event as recorded; identifiers are opened only for roles allowed to read them, else only their kinds are shown. */
  readonly event: ProcessingEvent | (Omit<ProcessingEvent, 'subject'> & { subject: { id: string; identifierKinds?: string[] } });
}

export class ListEvents extends Query<Page<AuditItem>> {
  constructor(readonly tenant: string, readonly filter: AuditFilter, readonly after: number, readonly limit: number, readonly withIdentifiers: boolean) { super(); }
}

@QueryHandler(ListEvents)
export class ListEventsHandler implements IQueryHandler<ListEvents> {
  constructor(@Inject(AUDIT_TRAIL_READ_MODEL) private readonly trail: AuditTrailReadModel, private readonly vault: IdentifierVault) {}

  async execute({ tenant, filter, after, limit, withIdentifiers }: ListEvents): Promise<Page<AuditItem>> {
    const rows = this.trail.page(tenant, filter, after, limit + 1);
    const items: AuditItem[] = [];
    for (const { position, hash, entry } of rows.slice(0, limit)) {
      const sealed = entry.subject.identifiers;
      let event: AuditItem['event'];
      if (!sealed?.length) event = submittedForm(entry);
      else if (withIdentifiers) event = submittedForm(entry, await this.vault.openAll(tenant, entry.subject.id, entry.eventId, sealed));
      else {
        const plain = submittedForm(entry);
        event = { ...plain, subject: { id: entry.subject.id, identifierKinds: sealed.map((s) => s.kind) } };
      }
      items.push({ position, hash, recordedAt: entry.recordedAt, event });
    }
    return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]!.position) : null };
  }
}
