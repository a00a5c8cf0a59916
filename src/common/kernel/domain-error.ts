import type { FieldError } from './codec.js';
import type { AppendRefusal } from '../../ledger/domain/record-outcome.js';

/** Every recoverable error the application answers with; each transport maps them in one function. */
export type DomainError =
  | AppendRefusal
  | { readonly _tag: 'InvalidInput'; readonly errors: readonly FieldError[] }
  | { readonly _tag: 'TokenNotFound'; readonly tokenId: string }
  | { readonly _tag: 'DeclarationNotFound'; readonly kind: string; readonly id: string }
  | { readonly _tag: 'SystemNotAllowed'; readonly systems: readonly string[] }
  | { readonly _tag: 'EventNotFound'; readonly eventId: string }
  | { readonly _tag: 'TreeSizeOutOfRange'; readonly detail: string }
  | { readonly _tag: 'IntegrityViolation'; readonly detail: string }
  | { readonly _tag: 'SigningKeyManagedElsewhere' }
  | { readonly _tag: 'RequestNotFound'; readonly kind: 'subject' | 'authority'; readonly id: string }
  | { readonly _tag: 'SubjectNotFound'; readonly subject: string }
  | { readonly _tag: 'RequestConflict'; readonly detail: string; readonly systems?: readonly string[] };
