import * as t from 'io-ts';
import { jsonSchemaOf, withSchema } from './codec.js';

/** `codec` or null, reporting the inner codec's message rather than a union's. */
export function nullable<A, O>(codec: t.Type<A, O, unknown>): t.Type<A | null, O | null, unknown> {
  return withSchema(new t.Type<A | null, O | null, unknown>(
    `${codec.name} or null`,
    (u): u is A | null => u === null || codec.is(u),
    (u, c) => (u === null ? t.success(null) : codec.validate(u, c)),
    (a) => (a === null ? null : codec.encode(a)),
  ), { lazy: () => ({ anyOf: [jsonSchemaOf(codec), { type: 'null' }] }) });
}
