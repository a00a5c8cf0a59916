import * as t from 'io-ts';
import { isLeft, left, right, type Either } from 'fp-ts/lib/Either.js';

/** A validation error at a JSON path such as `events[3].occurredAt`. */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

/** JSON Schema of each codec built by these helpers, for the OpenAPI document (the codecs stay the source of truth). */
const schemas = new WeakMap<object, Record<string, unknown>>();
export function withSchema<T extends object>(codec: T, schema: Record<string, unknown>): T {
  schemas.set(codec, schema);
  return codec;
}
export function jsonSchemaOf(codec: unknown): Record<string, unknown> {
  const s = codec ? schemas.get(codec as object) : undefined;
  if (!s) return {};
  return typeof s.lazy === 'function' ? (s.lazy as () => Record<string, unknown>)() : { ...s };
}

/**
 * The context of `decodeWith`'s first, quick pass: the codecs here add no entry to it (most input is
 * valid, and each entry is an allocation, per field of every event); what fails is decoded again with
 * full contexts, for its errors' paths. Decoding is pure, so both passes decide alike.
 */
const QUICK: t.Context = Object.freeze([]) as unknown as t.Context;

/** `c` with one more entry, as io-ts's own combinators build it; nothing on the quick pass. */
export function within(c: t.Context, key: string, type: t.Decoder<unknown, unknown>, actual: unknown): t.Context {
  return c === QUICK ? QUICK : [...c, { key, type, actual }];
}

const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === 'object' && u !== null && !Array.isArray(u);

/**
 * An object codec that refuses unknown fields (io-ts `strict` would silently drop them, which would let
 * personal data ride along unvalidated) and reports every missing, wrong and unknown field.
 */
export function struct<R extends t.Props, O extends t.Props = {}>(
  name: string,
  required: R,
  optional: O = {} as O,
): t.Type<t.TypeOfProps<R> & Partial<t.TypeOfProps<O>>, t.OutputOfProps<R> & Partial<t.OutputOfProps<O>>, unknown> {
  type A = t.TypeOfProps<R> & Partial<t.TypeOfProps<O>>;
  type Out = t.OutputOfProps<R> & Partial<t.OutputOfProps<O>>;
  const all: t.Props = { ...required, ...optional };
  // Worked out once: every event of every request goes through here.
  const fields = Object.entries(all).map(([k, codec]) => ({ k, codec, required: k in required }));
  // Decoded objects get their keys in UTF-16 code-unit order (RFC 8785's), so that entries built from
  // them are written canonically by JSON.stringify as they are (keys are distinct: no tie to break);
  // fields are still checked in declaration order.
  const placed = fields.map((_, i) => i).sort((a, b) => (fields[a]!.k < fields[b]!.k ? -1 : 1));
  const schema = () => ({
    type: 'object', description: name, additionalProperties: false, required: Object.keys(required),
    properties: Object.fromEntries(Object.entries(all).map(([k, c]) => [k, jsonSchemaOf(c)])),
  });
  const codec = new t.Type<A, Out, unknown>(
    name,
    (u): u is A => isPlainObject(u) && Object.keys(required).every((k) => k in u) && Object.keys(u).every((k) => k in all),
    (u, c) => {
      if (!isPlainObject(u)) return t.failure(u, c, `must be an object`);
      const errors: t.Errors = [];
      for (const k of Object.keys(u)) {
        if (!(k in all)) errors.push({ value: u[k], context: within(c, k, t.unknown, u[k]), message: 'is not a known field' });
      }
      const values: unknown[] = new Array(fields.length);
      for (let i = 0; i < fields.length; i++) {
        const { k, codec, required: needed } = fields[i]!;
        const v = u[k];
        if (v === undefined) {
          if (needed) errors.push({ value: undefined, context: within(c, k, codec, undefined), message: 'is required' });
          continue;
        }
        const r = codec.validate(v, within(c, k, codec, v));
        if (isLeft(r)) errors.push(...r.left);
        else values[i] = r.right;
      }
      if (errors.length) return t.failures(errors);
      const out: Record<string, unknown> = {};
      for (const i of placed) if (values[i] !== undefined) out[fields[i]!.k] = values[i];
      return t.success(out as A);
    },
    (a) => {
      const out: Record<string, unknown> = {};
      for (const { k, codec } of fields) {
        const v = (a as Record<string, unknown>)[k];
        if (v !== undefined) out[k] = codec.encode(v);
      }
      return out as Out;
    },
  );
  return withSchema(codec, { lazy: schema });
}

/** A string of bounded length matching an optional pattern, with a message a person understands. */
export function boundedString(name: string, max: number, pattern?: RegExp, what?: string): t.Type<string, string, unknown> {
  return withSchema(new t.Type<string, string, unknown>(
    name,
    (u): u is string => typeof u === 'string' && u.length > 0 && u.length <= max && (!pattern || pattern.test(u)),
    (u, c) => {
      if (typeof u !== 'string') return t.failure(u, c, 'must be a string');
      if (u.length === 0) return t.failure(u, c, 'must not be empty');
      if (u.length > max) return t.failure(u, c, `is longer than the limit of ${max} characters`);
      if (pattern && !pattern.test(u)) return t.failure(u, c, `must be ${what ?? name}`);
      return t.success(u);
    },
    t.identity,
  ), { type: 'string', minLength: 1, maxLength: max, ...(pattern ? { pattern: pattern.source } : {}), description: what ?? name });
}

/** An array with at least `min` and at most `max` items. */
export function boundedArray<C extends t.Mixed>(item: C, min: number, max: number, name?: string): t.Type<Array<t.TypeOf<C>>, Array<t.OutputOf<C>>, unknown> {
  const base = t.array(item);
  return withSchema(new t.Type<Array<t.TypeOf<C>>, Array<t.OutputOf<C>>, unknown>(
    name ?? `Array<${item.name}>`,
    (u): u is Array<t.TypeOf<C>> => base.is(u) && u.length >= min && u.length <= max,
    (u, c) => {
      if (!Array.isArray(u)) return t.failure(u, c, 'must be a list');
      if (u.length < min) return t.failure(u, c, min === 1 ? 'must not be empty' : `must hold at least ${min} items`);
      if (u.length > max) return t.failure(u, c, `holds ${u.length} items, more than the limit of ${max}`);
      if (c !== QUICK) return base.validate(u, c);
      const out: Array<t.TypeOf<C>> = new Array(u.length);
      for (let i = 0; i < u.length; i++) {
        const r = item.validate(u[i], QUICK);
        if (isLeft(r)) return r;
        out[i] = r.right;
      }
      return t.success(out);
    },
    base.encode,
  ), { type: 'array', minItems: min, maxItems: max, get items() { return jsonSchemaOf(item); } });
}

/**
 * One of a fixed set of string values. A long set says what it is instead of listing itself: `refusal`
 * words the failure of a value (a string, or `undefined` for anything else) and `description` the schema's.
 */
export function oneOf<const V extends string>(name: string, values: readonly V[],
  words: { readonly refusal: (value: string | undefined) => string; readonly description: string } | null = null): t.Type<V, V, unknown> {
  const set = new Set<string>(values);
  const refusal = words?.refusal ?? (() => `must be one of: ${values.join(', ')}`);
  return withSchema(new t.Type<V, V, unknown>(
    name,
    (u): u is V => typeof u === 'string' && set.has(u),
    (u, c) => (typeof u === 'string' && set.has(u) ? t.success(u as V) : t.failure(u, c, refusal(typeof u === 'string' ? u : undefined))),
    t.identity,
  ), { type: 'string', enum: [...values], ...(words ? { description: words.description } : {}) });
}

/**
 * A key of the request as a path names it: the client chose it, and an unknown one may be anything (an
 * e-mail address sent as an identifier's kind, a whole form body taken for a key): shown only when it
 * reads as a field name, else as `[…]`, so that no personal value comes back in an error.
 */
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const keyInPath = (key: string, path: string) => (FIELD_NAME.test(key) ? (path ? `.${key}` : key) : '[…]');

function pathOf(context: t.Context): string {
  let path = '';
  for (let i = 1; i < context.length; i++) {
    const parent = context[i - 1]!.type as t.Mixed & { _tag?: string };
    const key = context[i]!.key;
    if (parent._tag === 'ArrayType' || (/^\d+$/.test(key) && parent.name.startsWith('Array'))) path += `[${key}]`;
    else if (parent._tag === 'UnionType' || parent._tag === 'IntersectionType' || parent._tag === 'RefinementType') continue;
    else path += keyInPath(key, path);
  }
  return path;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** Turns io-ts errors into field errors; values are never echoed, since they may be personal data. */
export function fieldErrors(errors: t.Errors, prefix = ''): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const e of errors) {
    const inner = pathOf(e.context);
    const path = prefix && inner ? (inner.startsWith('[') ? prefix + inner : `${prefix}.${inner}`) : prefix || inner;
    const expected = e.context[e.context.length - 1]?.type.name ?? 'a valid value';
    const message = e.message ?? (e.value === undefined ? 'is required' : `must be ${expected}, not ${describe(e.value)}`);
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path: path || '(body)', message });
  }
  return out.slice(0, 100);
}

/** Decodes `u`, answering field errors with paths under `prefix`. */
export function decodeWith<A>(codec: t.Decoder<unknown, A>, u: unknown, prefix = ''): Either<FieldError[], A> {
  const quick = codec.validate(u, QUICK);
  if (!isLeft(quick)) return right(quick.right);
  const r = codec.decode(u);
  return isLeft(r) ? left(fieldErrors(r.left, prefix)) : right(r.right);
}
