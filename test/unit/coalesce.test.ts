import { coalesced } from '../../src/common/kernel/coalesce.js';

const turn = () => new Promise((r) => setImmediate(r));

describe('coalesced look-ups', () => {
  it('answers the keys asked within one turn with one look-up, each caller its own key', async () => {
    const asked: string[][] = [];
    const find = coalesced(async (keys: string[]) => {
      asked.push(keys);
      return new Map(keys.filter((k) => k !== 'none').map((k) => [k, k.toUpperCase()]));
    });
    const answers = await Promise.all([find('a'), find('b'), find('a'), find('none')]);
    expect(answers).toEqual(['A', 'B', 'A', undefined]);
    expect(asked).toEqual([['a', 'b', 'none']]);
  });

  it('never joins a look-up already sent: a key asked after it goes into the next one', async () => {
    const asked: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const find = coalesced(async (keys: string[]) => {
      asked.push(keys);
      await gate;
      return new Map(keys.map((k) => [k, asked.length]));
    });
    const first = find('a');
    await turn();
    expect(asked).toEqual([['a']]);
    const second = find('a');
    await turn();
    expect(asked).toEqual([['a'], ['a']]);
    release();
    expect([await first, await second]).toEqual([2, 2]);
  });

  it('fails every caller of a look-up that fails, and later look-ups go on', async () => {
    let fail = true;
    const find = coalesced(async (keys: string[]) => {
      if (fail) throw new Error('connection lost');
      return new Map(keys.map((k) => [k, 1]));
    });
    const results = await Promise.allSettled([find('a'), find('b')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await find('a')).toBe(1);
  });
});
