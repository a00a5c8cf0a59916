import type { Declared, DeclarationKind } from './domain/declaration.js';

/** Declarations in force now or at a past moment (`asOf`, compared with the time they were recorded). */
export interface DeclarationsReadModel {
  current(tenant: string, kind: DeclarationKind, id: string, asOf?: string): Promise<Declared | null>;
  list(tenant: string, kind: DeclarationKind, asOf?: string): Promise<Declared[]>;
}
export const DECLARATIONS_READ_MODEL = Symbol('DeclarationsReadModel');
