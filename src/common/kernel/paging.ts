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
