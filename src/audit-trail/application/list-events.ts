import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { right, type Either } from 'fp-ts/lib/Either.js';
import { IdentifierVault, type KeyMemo } from '../../keys/application/identifier-vault.js';
import { submittedForm } from '../../ledger/domain/submission.js';
import type { ProcessingEvent } from '../../ledger/domain/processing-event.js';
import { encodeCursor, type Page } from '../../common/kernel/paging.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import type { Principal } from '../../tenancy/domain/roles.js';
import { canReadIdentifiers } from '../../tenancy/domain/roles.js';
import { AccessRecorder } from '../../answers/application/access-recorder.js';
import { AUDIT_TRAIL_READ_MODEL, type AuditFilter, type AuditRow, type AuditTrailReadModel } from '../audit-trail-read-model.port.js';

export interface AuditItem {
  readonly position: number;
  readonly hash: string;
  readonly recordedAt: string;
  /** The event as recorded; identifiers are opened only for roles allowed to read them, else only their kinds are shown. */
  readonly event: ProcessingEvent | (Omit<ProcessingEvent, 'subject'> & { subject: { id: string; identifierKinds?: string[] } });
}

const PAGE = 1000;

/** A page of the audit trail; identifiers opened for dpo and legal, and that read recorded in the log. */
export class ListEvents extends Query<Either<DomainError, Page<AuditItem>>> {
  constructor(readonly tenant: string, readonly filter: AuditFilter, readonly after: number, readonly limit: number, readonly by: Principal) { super(); }
}

/** Everything matching after a cursor, as lines of NDJSON; each chunk's read is recorded before it is sent. */
export class ExportEvents extends Query<AsyncIterable<Buffer>> {
  constructor(readonly tenant: string, readonly filter: AuditFilter, readonly after: number, readonly by: Principal) { super(); }
}

/** Failure to record a read while streaming: the stream stops, nothing more is sent. */
export class AccessNotRecorded extends Error {}

abstract class AuditReader {
  constructor(protected readonly trail: AuditTrailReadModel, private readonly vault: IdentifierVault, private readonly access: AccessRecorder) {}

  /** The items of `rows` as `by` may see them, and the read recorded when identifiers were opened. */
  protected async items(tenant: string, rows: readonly AuditRow[], by: Principal, format: 'json' | 'ndjson'): Promise<Either<DomainError, AuditItem[]>> {
    const withIdentifiers = canReadIdentifiers(by);
    const opened = new Set<string>();
    const keys: KeyMemo = new Map();
    const items: AuditItem[] = [];
    for (const { position, hash, entry } of rows) {
      const sealed = entry.subject.identifiers;
      let event: AuditItem['event'];
      if (!sealed?.length) event = submittedForm(entry);
      else if (withIdentifiers) {
        event = submittedForm(entry, await this.vault.openAll(tenant, entry.subject.id, entry.eventId, sealed, keys));
        opened.add(entry.subject.id);
      } else {
        const plain = submittedForm(entry);
        event = { ...plain, subject: { id: entry.subject.id, identifierKinds: sealed.map((s) => s.kind) } };
      }
      items.push({ position, hash, recordedAt: entry.recordedAt, event });
    }
    if (opened.size === 0) return right(items);
    const recorded = await this.access.record(tenant, by, { what: 'audit-trail', subjects: [...opened], format });
    return recorded._tag === 'Left' ? recorded : right(items);
  }
}

@QueryHandler(ListEvents)
export class ListEventsHandler extends AuditReader implements IQueryHandler<ListEvents> {
  constructor(@Inject(AUDIT_TRAIL_READ_MODEL) trail: AuditTrailReadModel, vault: IdentifierVault, access: AccessRecorder) { super(trail, vault, access); }

  async execute({ tenant, filter, after, limit, by }: ListEvents): Promise<Either<DomainError, Page<AuditItem>>> {
    const rows = await this.trail.page(tenant, filter, after, limit + 1);
    const items = await this.items(tenant, rows.slice(0, limit), by, 'json');
    if (items._tag === 'Left') return items;
    return right({ items: items.right, nextCursor: rows.length > limit ? encodeCursor(items.right[items.right.length - 1]!.position) : null });
  }
}

@QueryHandler(ExportEvents)
export class ExportEventsHandler extends AuditReader implements IQueryHandler<ExportEvents> {
  constructor(@Inject(AUDIT_TRAIL_READ_MODEL) trail: AuditTrailReadModel, vault: IdentifierVault, access: AccessRecorder) { super(trail, vault, access); }

  async execute({ tenant, filter, after, by }: ExportEvents): Promise<AsyncIterable<Buffer>> {
    return this.lines(tenant, filter, after, by);
  }

  private async *lines(tenant: string, filter: AuditFilter, after: number, by: Principal): AsyncGenerator<Buffer> {
    for (let from = after; ;) {
      const rows = await this.trail.page(tenant, filter, from, PAGE);
      if (rows.length === 0) return;
      const items = await this.items(tenant, rows, by, 'ndjson');
      if (items._tag === 'Left') throw new AccessNotRecorded(items.left._tag);
      yield Buffer.from(items.right.map((i) => `${JSON.stringify(i)}\n`).join(''), 'utf8');
      if (rows.length < PAGE) return;
      from = rows[rows.length - 1]!.position;
    }
  }
}
