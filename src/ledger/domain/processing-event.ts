import * as t from 'io-ts';
import { isLeft, left, right, type Either } from 'fp-ts/lib/Either.js';
import { boundedArray, boundedString, decodeWith, oneOf, struct, within, type FieldError } from '../../common/kernel/codec.js';
import { CategoryKey, CountryCode, RecordedCountryCode, Slug, Uuid } from '../../common/kernel/ids.js';
import { Instant } from '../../common/kernel/time.js';
import { LIMITS } from './limits.js';

export const PROCESSING_TYPES = [
  'collected', 'stored', 'used', 'rectified', 'disclosed', 'transferred', 'erased',
  'restricted', 'restriction-lifted', 'objected', 'consent-given', 'consent-withdrawn', 'activity',
] as const;
export type ProcessingType = (typeof PROCESSING_TYPES)[number];
export const ProcessingTypeCodec = oneOf('an event type', PROCESSING_TYPES);

const Text = boundedString('text', LIMITS.text);
const SubjectId = boundedString('a subject id', LIMITS.subjectId, /^[^\u0000-\u001f]+$/, 'printable text');
const IdentifierKind = boundedString('an identifier kind', 32, /^[a-z][a-z0-9_-]*$/, 'a lowercase identifier kind such as ip or email');
const IdentifierValue = boundedString('an identifier value', LIMITS.identifierValue);

const Identifiers = new t.Type<Record<string, string>, Record<string, string>, unknown>(
  'identifiers',
  (u): u is Record<string, string> => typeof u === 'object' && u !== null && !Array.isArray(u),
  (u, c) => {
    if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, 'must be an object of kind: value');
    const entries = Object.entries(u as Record<string, unknown>);
    if (entries.length > LIMITS.identifiers) return t.failure(u, c, `holds ${entries.length} identifiers, more than the limit of ${LIMITS.identifiers}`);
    const errors: t.Errors = [];
    const out: Record<string, string> = {};
    for (const [k, v] of entries) {
      const kc = IdentifierKind.validate(k, within(c, k, IdentifierKind, k));
      const vc = IdentifierValue.validate(v, within(c, k, IdentifierValue, v));
      if (isLeft(kc)) errors.push(...kc.left);
      else if (isLeft(vc)) errors.push(...vc.left);
      else out[k] = vc.right;
    }
    return errors.length ? t.failures(errors) : t.success(out);
  },
  t.identity,
);

export const Subject = struct('a subject', { id: SubjectId }, { identifiers: Identifiers });
export const Actor = struct('an actor', { type: boundedString('an actor type', 64), id: boundedString('an actor id', 256) });

const Empty = struct('no details', {});
/** Type-specific details (PRODUCT.md "Processing events"), their countries checked by `country`; closed, so no personal value slips in unencrypted. */
const detailsOf = (country: t.Type<string, string, unknown>): Record<ProcessingType, t.Decoder<unknown, Record<string, unknown>>> => ({
  collected: struct('collected details', {}, { source: oneOf('a source', ['data-subject', 'observed', 'third-party', 'derived'] as const) }),
  stored: struct('stored details', {}, { country }),
  used: struct('used details', {}, { operation: Text }),
  rectified: Empty,
  disclosed: struct('disclosed details', { recipient: Slug }, { authorityRequestId: boundedString('a request id', 64) }),
  transferred: struct('transferred details', {
    country,
    mechanism: oneOf('a transfer mechanism', ['adequacy', 'scc', 'bcr', 'derogation', 'none'] as const),
  }, { recipient: Slug }),
  erased: struct('erased details', { reason: oneOf('an erasure reason', ['subject-request', 'retention', 'consent-withdrawn', 'other'] as const) }, { subjectRequestId: boundedString('a request id', 64) }),
  restricted: Empty,
  'restriction-lifted': Empty,
  objected: Empty,
  'consent-given': struct('consent details', {}, { noticeVersion: Text, method: Text }),
  'consent-withdrawn': struct('consent details', {}, { noticeVersion: Text, method: Text }),
  activity: Empty,
});
export const DETAILS = detailsOf(CountryCode);
/** Details as processing entries may hold them: countries as accepted when they were written. */
export const RECORDED_DETAILS = detailsOf(RecordedCountryCode);

export const EventFields = struct('an event', {
  eventId: Uuid,
  type: ProcessingTypeCodec,
  subject: Subject,
  categories: boundedArray(CategoryKey, 1, LIMITS.categories, 'categories'),
  purpose: Slug,
  system: Slug,
  occurredAt: Instant,
}, {
  actor: Actor,
  details: t.unknown,
});

export type ProcessingEvent = Omit<t.TypeOf<typeof EventFields>, 'details'> & { details?: Record<string, unknown> };

/** Decodes one submitted event: the common fields, then the details its type requires. */
export function decodeProcessingEvent(u: unknown, path: string): Either<FieldError[], ProcessingEvent> {
  const base = decodeWith(EventFields, u, path);
  if (isLeft(base)) return base;
  const e = base.right;
  const raw = e.details === undefined ? {} : e.details;
  const details = decodeWith(DETAILS[e.type], raw, `${path}.details`);
  if (isLeft(details)) return details;
  // `e` is the decoder's own new object (its keys in canonical order): completed in place, not copied.
  const out = e as ProcessingEvent & { details?: unknown };
  if (out.categories.length > 1) out.categories = [...new Set(out.categories)];
  if (Object.keys(details.right).length > 0) out.details = details.right;
  else if (out.details !== undefined) {
    const { details: _none, ...rest } = out;
    return right(rest);
  }
  return right(out);
}

export const AppendBody = struct('an append request', { events: boundedArray(t.unknown, 1, LIMITS.batchSize, 'events') });

/** Decodes an append request body; every bad event is reported with its index. */
export function decodeAppendBody(u: unknown): Either<FieldError[], ProcessingEvent[]> {
  const body = decodeWith(AppendBody, u);
  if (isLeft(body)) return body;
  const errors: FieldError[] = [];
  const events: ProcessingEvent[] = [];
  const seen = new Map<string, number>();
  body.right.events.forEach((raw, i) => {
    const r = decodeProcessingEvent(raw, `events[${i}]`);
    if (isLeft(r)) errors.push(...r.left);
    else {
      const prev = seen.get(r.right.eventId);
      if (prev !== undefined) errors.push({ path: `events[${i}].eventId`, message: `repeats the eventId of events[${prev}] in the same batch` });
      seen.set(r.right.eventId, i);
      events.push(r.right);
    }
  });
  return errors.length ? left(errors.slice(0, 100)) : right(events);
}
