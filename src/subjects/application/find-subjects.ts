import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { right, type Either } from 'fp-ts/lib/Either.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import { IdentifierVault } from '../../keys/application/identifier-vault.js';
import { AccessRecorder } from '../../answers/application/access-recorder.js';
import type { Principal } from '../../tenancy/domain/roles.js';

export interface SubjectMatch {
  readonly subject: { readonly id: string };
  /** The categories under which the identifier was recorded for this subject. */
  readonly categories: readonly string[];
}

/**
 * Subjects whose identifiers match `kind:value`, through the blind index (dpo, legal). A lookup that
 * finds someone is a read of their data: it is recorded (the kind looked up, never the value).
 */
export class FindSubjects extends Query<Either<DomainError, { items: SubjectMatch[] }>> {
  constructor(readonly tenant: string, readonly kind: string, readonly value: string, readonly by: Principal) { super(); }
}

@QueryHandler(FindSubjects)
export class FindSubjectsHandler implements IQueryHandler<FindSubjects> {
  constructor(private readonly vault: IdentifierVault, private readonly access: AccessRecorder) {}

  async execute({ tenant, kind, value, by }: FindSubjects): Promise<Either<DomainError, { items: SubjectMatch[] }>> {
    const found = await this.vault.findSubjects(tenant, kind, value);
    const items = found.map((f) => ({ subject: { id: f.subject }, categories: f.categories }));
    if (items.length === 0) return right({ items });
    const recorded = await this.access.record(tenant, by, { what: 'lookup', subjects: items.map((i) => i.subject.id).slice(0, 1000), identifierKind: kind });
    return recorded._tag === 'Left' ? recorded : right({ items });
  }
}
