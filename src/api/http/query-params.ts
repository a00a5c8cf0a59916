import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { boundedString, decodeWith, struct } from '../../common/kernel/codec.js';
import { Uuid } from '../../common/kernel/ids.js';
import { decodeCursor, decodeKeyCursor, encodeKeyCursor } from '../../common/kernel/paging.js';
import { invalid } from './problem.js';

export const LimitParam = new t.Type<number, string, unknown>('a limit',
  (u): u is number => typeof u === 'number',
  (u, c) => {
    const n = typeof u === 'string' && /^\d{1,5}$/.test(u) ? Number(u) : NaN;
    return n >= 1 && n <= 1000 ? t.success(n) : t.failure(u, c, 'must be a whole number from 1 to 1000');
  }, String);

export const CursorParam = new t.Type<number, string, unknown>('a cursor',
  (u): u is number => typeof u === 'number',
  (u, c) => {
    const p = typeof u === 'string' && u.length <= 64 ? decodeCursor(u) : null;
    return p === null ? t.failure(u, c, 'is not a cursor this ledger gave out') : t.success(p);
  }, String);

/** A cursor of a list kept in key order (`pageAfterKey`). */
export const KeyCursorParam = new t.Type<string[], string, unknown>('a cursor',
  (u): u is string[] => Array.isArray(u),
  (u, c) => {
    const k = typeof u === 'string' && u.length <= 1024 ? decodeKeyCursor(u) : null;
    return k === null ? t.failure(u, c, 'is not a cursor this ledger gave out') : t.success(k);
  }, encodeKeyCursor);

/** `limit` and `cursor` of a list kept in key order. */
export const KeyPageQuery = struct('query parameters', {}, { limit: LimitParam, cursor: KeyCursorParam });

/** Decodes the parameters of one part of a request, answering 400 with their paths under `part` (`query.limit`, `path.id`). */
function decodeParams<A>(part: 'query' | 'path', codec: t.Decoder<unknown, A>, params: unknown): A {
  const r = decodeWith(codec, { ...(params as object) });
  if (isLeft(r)) throw invalid(r.left.map((e) => ({ ...e, path: `${part}.${e.path}` })));
  return r.right;
}

/** Decodes query parameters with a closed codec (an unknown or misspelt filter is an error, not ignored). */
export const decodeQuery = <A>(codec: t.Decoder<unknown, A>, query: unknown): A => decodeParams('query', codec, query);

/** Decodes parameters of the route's path (`{id}`, `{subject}`): an error names them `path.<name>`. */
export const decodePath = <A>(codec: t.Decoder<unknown, A>, params: unknown): A => decodeParams('path', codec, params);

/** `{subject}` in a route: a subject id as the ledger records it. */
export const SubjectParam = struct('path parameters', { subject: boundedString('a subject id', 256, /^[^\u0000-\u001f]+$/, 'printable text') });

/** `{id}` in a route: a request's id. */
export const IdParam = struct('path parameters', { id: Uuid });

export const AsOfQuery = (asOf: t.Mixed) => struct('query parameters', {}, { asOf, limit: LimitParam, cursor: CursorParam });

/** Decodes a JSON body, answering 400 with field paths. */
export function decodeBody<A>(codec: t.Decoder<unknown, A>, body: unknown): A {
  const r = decodeWith(codec, body);
  if (isLeft(r)) throw invalid(r.left);
  return r.right;
}
