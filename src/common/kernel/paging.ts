/** Opaque cursors over log positions: `{ items, nextCursor }` paging for every list. */
export const encodeCursor = (position: number): string => Buffer.from(`p${position}`, 'utf8').toString('base64url');

export function decodeCursor(cursor: string): number | null {
  const m = /^p(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return m ? Number(m[1]) : null;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/**
 * A page from `limit + 1` rows read after a cursor: the first `limit` as items, and a cursor at the last
 * of them when there was one more.
 */
export function pageOf<R, T>(rows: readonly R[], limit: number, positionOf: (row: R) => number, item: (row: R) => T): Page<T> {
  const kept = rows.slice(0, limit);
  return { items: kept.map(item), nextCursor: rows.length > limit ? encodeCursor(positionOf(kept[kept.length - 1]!)) : null };
}

/**
 * Opaque cursors over a key, for the short lists kept in key order rather than log order (tenants by id,
 * tokens by issue time and id, declarations by id): the key of the last item given.
 */
export const encodeKeyCursor = (key: readonly string[]): string => Buffer.from(`k${JSON.stringify(key)}`, 'utf8').toString('base64url');

export function decodeKeyCursor(cursor: string): string[] | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith('k')) return null;
  try {
    const key: unknown = JSON.parse(text.slice(1));
    return Array.isArray(key) && key.length > 0 && key.every((k) => typeof k === 'string') ? key as string[] : null;
  } catch {
    return null;
  }
}

const compareKeys = (a: readonly string[], b: readonly string[]): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length - b.length;
};

/** The page of `items`, in the order of their keys (`keyOf`), that follows the key `after` (from the start when null). */
export function pageAfterKey<T>(items: readonly T[], keyOf: (item: T) => readonly string[], after: readonly string[] | null, limit: number): Page<T> {
  const keyed = items.map((item) => ({ item, key: keyOf(item) })).sort((x, y) => compareKeys(x.key, y.key));
  const rest = after === null ? keyed : keyed.filter((x) => compareKeys(x.key, after) > 0);
  const kept = rest.slice(0, limit);
  return { items: kept.map((x) => x.item), nextCursor: rest.length > limit ? encodeKeyCursor(kept[kept.length - 1]!.key) : null };
}
