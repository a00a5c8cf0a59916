import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { IdentifierVault } from '../../keys/application/identifier-vault.js';

export interface SubjectMatch {
  readonly subject: { readonly id: string };
  /** The categories under which the identifier was recorded for this subject. */
  readonly categories: readonly string[];
}

/** Subjects whose identifiers match `kind:value`, through the blind index (dpo, legal). */
export class FindSubjects extends Query<{ items: SubjectMatch[] }> {
  constructor(readonly tenant: string, readonly kind: string, readonly value: string) { super(); }
}

@QueryHandler(FindSubjects)
export class FindSubjectsHandler implements IQueryHandler<FindSubjects> {
  constructor(private readonly vault: IdentifierVault) {}

  async execute({ tenant, kind, value }: FindSubjects) {
    const found = await this.vault.findSubjects(tenant, kind, value);
    return { items: found.map((f) => ({ subject: { id: f.subject }, categories: f.categories })) };
  }
}
