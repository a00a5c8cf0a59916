import * as t from 'io-ts';
import { isLeft, left, type Either } from 'fp-ts/lib/Either.js';
import { boundedArray, boundedString, decodeWith, oneOf, struct, type FieldError } from '../../common/kernel/codec.js';
import { CategoryKey, Slug, Uuid } from '../../common/kernel/ids.js';
import { Instant } from '../../common/kernel/time.js';
import { RECORDED_DETAILS, PROCESSING_TYPES, ProcessingTypeCodec, Actor, type ProcessingType } from './processing-event.js';
import { RECORDED_BODIES } from '../../declarations/domain/declaration.js';
import { RecordedTenantBody } from '../../tenancy/domain/tenant.js';
import { ROLES } from '../../tenancy/domain/roles.js';
import { DecisionRecord } from '../../decisions/domain/decision.js';
import { AccessRecord } from '../../answers/domain/access.js';
import { ForgetRecord, ShredRecord } from '../../keys/domain/shredding.js';
import { AuthorityRequestDecided, AuthorityRequestReceived, AuthorityRequestRef, SubjectRequestCompleted, SubjectRequestExtended, SubjectRequestReceived } from '../../requests/domain/requests.js';

/**
 * The stored form of everything that happens in a tenant: one ordered log of entries. Its canonical
 * JSON (RFC 8785) is what is hashed; personal values appear only as ciphertext.
 */
const Position = new t.Type<number, number, unknown>('a log position', (u): u is number => Number.isSafeInteger(u) && (u as number) >= 0,
  (u, c) => (Number.isSafeInteger(u) && (u as number) >= 0 ? t.success(u as number) : t.failure(u, c, 'must be a position')), t.identity);
const Version = t.literal(1);

export const SealedIdentifier = struct('a sealed identifier', {
  kind: boundedString('an identifier kind', 32),
  category: CategoryKey,
  ciphertext: boundedString('a ciphertext', 4096, /^[A-Za-z0-9_-]+$/, 'base64url'),
});
export type SealedIdentifier = t.TypeOf<typeof SealedIdentifier>;

/**
 * `prev`: the leaf hash (hex) of the entry before this one in the tenant's log, absent at position 0.
 * The Merkle root proves the log as a whole; this chain lets a verifier name which entry was changed.
 */
const Chain = { prev: boundedString('a leaf hash', 64, /^[0-9a-f]{64}$/, 'a SHA-256 hex digest') };

const Header = {
  v: Version,
  tenant: boundedString('a tenant', 64),
  position: Position,
  eventId: Uuid,
  recordedAt: Instant,
};

export const ProcessingEntry = struct('a processing entry', {
  ...Header,
  type: ProcessingTypeCodec,
  subject: struct('a sealed subject', { id: boundedString('a subject id', 256) }, { identifiers: t.array(SealedIdentifier) }),
  categories: boundedArray(CategoryKey, 1, 64),
  purpose: Slug,
  system: Slug,
  occurredAt: Instant,
}, { actor: Actor, details: t.UnknownRecord, ...Chain });
export type ProcessingEntry = t.TypeOf<typeof ProcessingEntry> & { type: ProcessingType; details?: Record<string, unknown> };

/** Who did an administrative write: the bootstrap admin, a token (never a person's name), or the ledger itself (`ledger`, e.g. when it shreds a key). */
export const AdminActor = struct('an administrative actor', { type: oneOf('an actor type', ['admin', 'token', 'ledger'] as const), id: boundedString('an actor id', 64) }, { role: oneOf('a role', ROLES) });
export type AdminActor = t.TypeOf<typeof AdminActor>;

const adminEntry = <T extends string, P extends t.Props>(type: T, props: P) =>
  struct(`a ${type} entry`, { ...Header, type: t.literal(type), actor: AdminActor, ...props }, Chain);

// Bodies as entries may hold them: an entry is read back by the rules it was written under, never refused by a later, stricter one.
export const TenantDeclared = adminEntry('tenant-declared', { settings: RecordedTenantBody });
export const TokenIssued = adminEntry('token-issued', {
  token: struct('a token', { id: Uuid, role: oneOf('a role', ROLES), hash: boundedString('a token hash', 64, /^[0-9a-f]{64}$/, 'a SHA-256 hex digest') }, { systems: t.array(Slug), label: boundedString('a label', 128) }),
});
export const TokenRevoked = adminEntry('token-revoked', { token: struct('a token', { id: Uuid }) });
const declared = <C extends t.Mixed>(codec: C) => struct('a declaration', { id: Slug, version: Position, body: codec });
export const PurposeDeclared = adminEntry('purpose-declared', { declaration: declared(RECORDED_BODIES.PurposeBody) });
export const SystemDeclared = adminEntry('system-declared', { declaration: declared(RECORDED_BODIES.SystemBody) });
export const RecipientDeclared = adminEntry('recipient-declared', { declaration: declared(RECORDED_BODIES.RecipientBody) });

export const SubjectRequestReceivedEntry = adminEntry('subject-request-received', { request: SubjectRequestReceived });
export const SubjectRequestExtendedEntry = adminEntry('subject-request-extended', { request: SubjectRequestExtended });
export const SubjectRequestCompletedEntry = adminEntry('subject-request-completed', { request: SubjectRequestCompleted });
export const AuthorityRequestReceivedEntry = adminEntry('authority-request-received', { request: AuthorityRequestReceived });
export const AuthorityRequestDecidedEntry = adminEntry('authority-request-decided', { request: AuthorityRequestDecided });
export const AuthorityRequestClosedEntry = adminEntry('authority-request-closed', { request: AuthorityRequestRef });
export const AuthorityRequestUnsealedEntry = adminEntry('authority-request-unsealed', { request: AuthorityRequestRef });

export const DecisionMadeEntry = adminEntry('decision-made', { decision: DecisionRecord });
export const AccessedEntry = adminEntry('accessed', { access: AccessRecord });
export const KeyDestroyedEntry = adminEntry('key-destroyed', { shred: ShredRecord });
export const SubjectForgottenEntry = adminEntry('subject-forgotten', { forget: ForgetRecord });

const ADMIN_CODECS = {
  'tenant-declared': TenantDeclared,
  'token-issued': TokenIssued,
  'token-revoked': TokenRevoked,
  'purpose-declared': PurposeDeclared,
  'system-declared': SystemDeclared,
  'recipient-declared': RecipientDeclared,
  'subject-request-received': SubjectRequestReceivedEntry,
  'subject-request-extended': SubjectRequestExtendedEntry,
  'subject-request-completed': SubjectRequestCompletedEntry,
  'authority-request-received': AuthorityRequestReceivedEntry,
  'authority-request-decided': AuthorityRequestDecidedEntry,
  'authority-request-closed': AuthorityRequestClosedEntry,
  'authority-request-unsealed': AuthorityRequestUnsealedEntry,
  'decision-made': DecisionMadeEntry,
  'accessed': AccessedEntry,
  'key-destroyed': KeyDestroyedEntry,
  'subject-forgotten': SubjectForgottenEntry,
} as const;
type AdminCodecs = typeof ADMIN_CODECS;
export type AdminEntryType = keyof AdminCodecs;
export type AdminEntry = { [K in AdminEntryType]: t.TypeOf<AdminCodecs[K]> }[AdminEntryType];
export type LogEntry = ProcessingEntry | AdminEntry;

/** A log entry before the ledger gives it a position and a recording time. */
export type DraftEntry = LogEntry extends infer E ? (E extends LogEntry ? Omit<E, 'position' | 'recordedAt' | 'v' | 'tenant' | 'prev'> : never) : never;

const processingTypes = new Set<string>(PROCESSING_TYPES);
export const isProcessingEntry = (e: LogEntry): e is ProcessingEntry => processingTypes.has(e.type);

/** Decodes an entry read back from any store: the store is an edge like any other. */
export function decodeLogEntry(u: unknown): Either<FieldError[], LogEntry> {
  const type = typeof u === 'object' && u !== null ? (u as { type?: unknown }).type : undefined;
  if (typeof type === 'string' && type in ADMIN_CODECS) return decodeWith(ADMIN_CODECS[type as AdminEntryType] as t.Decoder<unknown, AdminEntry>, u);
  if (typeof type === 'string' && processingTypes.has(type)) {
    const r = decodeWith(ProcessingEntry, u);
    if (isLeft(r)) return r;
    const details = decodeWith(RECORDED_DETAILS[r.right.type], r.right.details ?? {}, 'details');
    return isLeft(details) ? details : r as Either<FieldError[], ProcessingEntry>;
  }
  return left([{ path: 'type', message: 'is not a known log entry type' }]);
}
