import { decodeKeyCursor, encodeCursor, encodeKeyCursor, pageAfterKey } from '../../src/common/kernel/paging.js';

describe('paging a list kept in key order', () => {
  const tokens = [
    { id: 'b', at: '2026-01-01T00:00:01Z' }, { id: 'a', at: '2026-01-01T00:00:01Z' }, { id: 'z', at: '2026-01-01T00:00:00Z' }, { id: 'c', at: '2026-01-02T00:00:00Z' },
  ];
  const keyOf = (t: { id: string; at: string }) => [t.at, t.id];

  it('walks every item once, in key order (ties broken by the next part of the key)', () => {
    const seen: string[] = [];
    let page = pageAfterKey(tokens, keyOf, null, 3);
    seen.push(...page.items.map((t) => t.id));
    expect(page.nextCursor).not.toBeNull();
    page = pageAfterKey(tokens, keyOf, decodeKeyCursor(page.nextCursor!), 3);
    seen.push(...page.items.map((t) => t.id));
    expect(page.nextCursor).toBeNull();
    expect(seen).toEqual(['z', 'a', 'b', 'c']);
  });

  it('gives no cursor when the page holds the rest exactly', () => {
    expect(pageAfterKey(tokens, keyOf, null, 4).nextCursor).toBeNull();
    expect(pageAfterKey([], keyOf, null, 4)).toEqual({ items: [], nextCursor: null });
  });

  it('reads back only the cursors it gives out', () => {
    expect(decodeKeyCursor(encodeKeyCursor(['2026', 'id with "quotes" and \u0000']))).toEqual(['2026', 'id with "quotes" and \u0000']);
    for (const bad of [encodeCursor(12), 'nope', Buffer.from('k{"a":1}').toString('base64url'), Buffer.from('k[]').toString('base64url'), Buffer.from('k[1]').toString('base64url'), Buffer.from('k[').toString('base64url')]) {
      expect(decodeKeyCursor(bad)).toBeNull();
    }
  });
});
