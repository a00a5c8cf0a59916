import fc from 'fast-check';
import { canonicalJson } from '../../src/ledger/domain/canonical.js';
import { link, relink } from '../../src/ledger/domain/chain.js';

/** Entries shaped like processing entries, their details free (keys named `position` and `prev` included). */
const entry = fc.record({
  v: fc.constant(1), tenant: fc.constant('acme'), eventId: fc.uuid(), type: fc.constantFrom('collected', 'used'),
  details: fc.dictionary(fc.constantFrom('position', 'prev', 'note', 'x'), fc.oneof(fc.nat(), fc.string(), fc.constant('"position":1,"prev":"'), fc.jsonValue())),
  subject: fc.record({ id: fc.string() }), purpose: fc.string(), position: fc.constant(-1),
});
const hex = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));

describe('linking entries again after others (relink)', () => {
  it('gives what linking them afresh at their new place gives: the same bytes, leaf hashes and entries', () => {
    fc.assert(fc.property(fc.array(entry, { minLength: 1, maxLength: 6 }), fc.nat(1000), fc.option(hex, { nil: undefined }), fc.nat(1000), hex, (entries, first, prev, later, newPrev) => {
      // Linked once (the first without `prev` when none is given), then overtaken: placed `later` entries on.
      const before = link(entries, first, prev);
      const again = relink(before.map((l) => ({ data: l.data, entry: JSON.parse(l.data.toString('utf8')) as typeof l.entry })), first + later + 1, newPrev);
      const fresh = link(entries, first + later + 1, newPrev);
      expect(again.map((l) => [l.data.toString('utf8'), l.hash, l.leaf.toString('hex')])).toEqual(fresh.map((l) => [l.data.toString('utf8'), l.hash, l.leaf.toString('hex')]));
      // The entries handed on: the same values (their keys' order aside).
      expect(again.map((l) => canonicalJson(l.entry))).toEqual(fresh.map((l) => canonicalJson(l.entry)));
    }), { numRuns: 500 });
  });
});
