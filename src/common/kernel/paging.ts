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
