import { problemOf } from '../../src/api/http/problem.js';

describe('problems for things that do not exist', () => {
  const hostile = ['jane@example.org', '203.0.113.7 ', 'Jane Doe', 'x'.repeat(65), '<script>'];

  it('name the id they were asked by when it reads as an id, and repeat nothing else', () => {
    const cases = (id: string) => [
      problemOf({ _tag: 'UnknownTenant', tenant: id }), problemOf({ _tag: 'TokenNotFound', tokenId: id }),
      problemOf({ _tag: 'DeclarationNotFound', kind: 'purposes', id }), problemOf({ _tag: 'EventNotFound', eventId: id }),
      problemOf({ _tag: 'RequestNotFound', kind: 'subject', id }),
    ].map((p) => p.problem.detail);
    expect(cases('chat-support')).toEqual([
      'There is no tenant "chat-support".', 'There is no token "chat-support" in this tenant.', 'There is no purpose "chat-support".',
      'There is no event "chat-support" in this tenant\'s log.', 'There is no subject request "chat-support" in this tenant.',
    ]);
    for (const id of hostile) {
      const details = cases(id);
      for (const d of details) expect(d).not.toContain(id.trim().slice(0, 10));
      expect(details[2]).toBe('There is no such purpose.');
    }
  });
});
