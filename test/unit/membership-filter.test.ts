import { MembershipFilter } from '../../src/common/kernel/membership-filter.js';

const key = (i: number) => `tenant-${i % 7}\u0000${(i * 2654435761) >>> 0}-${i}`;

describe('the membership filter in front of the idempotency index', () => {
  it('never says a member is absent, through several parts as it grows', () => {
    const filter = new MembershipFilter(1000);
    let missed = 0;
    for (let i = 0; i < 20_000; i++) {
      filter.add(key(i));
      // Members added before each growth stay members after it.
      if (i % 997 === 0) for (let j = 0; j <= i; j += 13) if (!filter.mightHave(key(j))) missed++;
    }
    for (let i = 0; i < 20_000; i++) if (!filter.mightHave(key(i))) missed++;
    expect(missed).toBe(0);
  });

  it('says "perhaps" for few non-members: about 1% while its first part is not full, under 2% after several', () => {
    const rate = (filter: MembershipFilter, from: number) => {
      let perhaps = 0;
      for (let i = from; i < from + 20_000; i++) if (filter.mightHave(key(i))) perhaps++;
      return perhaps / 20_000;
    };
    const small = new MembershipFilter(10_000);
    for (let i = 0; i < 10_000; i++) small.add(key(i));
    expect(rate(small, 1_000_000)).toBeLessThan(0.015);
    const grown = new MembershipFilter(1000);
    for (let i = 0; i < 63_000; i++) grown.add(key(i)); // six parts, full
    expect(rate(grown, 1_000_000)).toBeLessThan(0.02);
    expect(grown.bytes / 63_000).toBeLessThan(4);
  });

  it('knows nothing when empty', () => {
    const filter = new MembershipFilter();
    expect(filter.mightHave('')).toBe(false);
    expect(filter.mightHave(key(1))).toBe(false);
    expect(filter.bytes).toBe(0);
  });
});
