import { left, right, type Either } from 'fp-ts/lib/Either.js';
import type { FieldError } from '../../common/kernel/codec.js';

/** `google.protobuf.Struct` / `Value` as protobufjs hands them over, back to plain JSON. */
type PbValue = { nullValue?: unknown; numberValue?: number; stringValue?: string; boolValue?: boolean; structValue?: PbStruct; listValue?: { values?: PbValue[] }; kind?: string };
type PbStruct = { fields?: Record<string, PbValue> };

function fromValue(v: PbValue): unknown {
  if (v.structValue !== undefined) return fromStruct(v.structValue);
  if (v.listValue !== undefined) return (v.listValue.values ?? []).map(fromValue);
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.numberValue !== undefined) return v.numberValue;
  if (v.boolValue !== undefined) return v.boolValue;
  return null;
}

const fromStruct = (s: PbStruct): Record<string, unknown> => Object.fromEntries(Object.entries(s.fields ?? {}).map(([k, v]) => [k, fromValue(v)]));

/**
 * A gRPC `Event` message in the JSON shape of the HTTP API, so that one codec validates both.
 * Empty proto3 defaults stand for absent fields.
 */
export function eventFromProto(m: Record<string, unknown>, path: string): Either<FieldError[], Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const k of ['eventId', 'type', 'purpose', 'system', 'occurredAt'] as const) if (m[k] !== undefined && m[k] !== '') out[k] = m[k];
  const subject = m.subject as { id?: string; identifiers?: Record<string, string> } | undefined;
  if (subject) out.subject = { ...(subject.id ? { id: subject.id } : {}), ...(subject.identifiers && Object.keys(subject.identifiers).length ? { identifiers: subject.identifiers } : {}) };
  if (Array.isArray(m.categories)) out.categories = m.categories;
  const actor = m.actor as { type?: string; id?: string } | undefined;
  if (actor && (actor.type || actor.id)) out.actor = { type: actor.type, id: actor.id };
  if (typeof m.detailsJson === 'string' && m.detailsJson !== '') {
    try {
      out.details = JSON.parse(m.detailsJson);
    } catch {
      return left([{ path: `${path}.detailsJson`, message: 'is not valid JSON' }]);
    }
  } else if (m.details && typeof m.details === 'object') out.details = fromStruct(m.details as PbStruct);
  return right(out);
}
