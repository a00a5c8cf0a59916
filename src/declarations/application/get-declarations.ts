import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DECLARATIONS_READ_MODEL, type DeclarationsReadModel } from '../declarations-read-model.port.js';
import type { Declared, DeclarationKind } from '../domain/declaration.js';

/** The declarations of one kind in force now, or at `asOf`. */
export class ListDeclarations extends Query<Declared[]> {
  constructor(readonly tenant: string, readonly kind: DeclarationKind, readonly asOf?: string) { super(); }
}

export class GetDeclaration extends Query<Declared | null> {
  constructor(readonly tenant: string, readonly kind: DeclarationKind, readonly id: string, readonly asOf?: string) { super(); }
}

@QueryHandler(ListDeclarations)
export class ListDeclarationsHandler implements IQueryHandler<ListDeclarations> {
  constructor(@Inject(DECLARATIONS_READ_MODEL) private readonly declarations: DeclarationsReadModel) {}
  async execute({ tenant, kind, asOf }: ListDeclarations) {
    return this.declarations.list(tenant, kind, asOf);
  }
}

@QueryHandler(GetDeclaration)
export class GetDeclarationHandler implements IQueryHandler<GetDeclaration> {
  constructor(@Inject(DECLARATIONS_READ_MODEL) private readonly declarations: DeclarationsReadModel) {}
  async execute({ tenant, kind, id, asOf }: GetDeclaration) {
    return this.declarations.current(tenant, kind, id, asOf);
  }
}
