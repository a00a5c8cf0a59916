import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { decodeWith, struct } from '../../common/kernel/codec.js';
import { decodeCursor } from '../../common/kernel/paging.js';
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

/** Decodes query parameters with a closed codec (an unknown or misspelt filter is an error, not ignored). */
export function decodeQuery<A>(codec: t.Decoder<unknown, A>, query: unknown): A {
  const r = decodeWith(codec, { ...(query as object) });
  if (isLeft(r)) throw invalid(r.left.map((e) => ({ ...e, path: `query.${e.path}` })));
  return r.right;
}

export const AsOfQuery = (asOf: t.Mixed) => struct('query parameters', {}, { asOf, limit: LimitParam, cursor: CursorParam });

/** Decodes a JSON body, answering 400 with field paths. */
export function decodeBody<A>(codec: t.Decoder<unknown, A>, body: unknown): A {
  const r = decodeWith(codec, body);
  if (isLeft(r)) throw invalid(r.left);
  return r.right;
}
