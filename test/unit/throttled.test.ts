import { throttled } from '../../src/operability/throttled.js';

describe('a throttled log line', () => {
  it('is said first, then at most once a period per key, with how many were kept quiet since', () => {
    let now = 0;
    const said: Array<[string, number]> = [];
    const refuse = throttled(10_000, (key, quiet) => said.push([key, quiet]), () => now);
    for (let i = 0; i < 192; i++) { refuse('disk full'); now += 5; }
    refuse('connection reset');
    now = 10_000;
    refuse('disk full');
    now = 25_000;
    refuse('disk full');
    expect(said).toEqual([['disk full', 0], ['connection reset', 0], ['disk full', 191], ['disk full', 0]]);
  });

  it('forgets the keys it holds past a hundred, and says each again', () => {
    const said: string[] = [];
    const refuse = throttled(10_000, (key) => said.push(key), () => 0);
    for (let i = 0; i < 100; i++) refuse(`k${i}`);
    refuse('k0');
    refuse('k100');
    refuse('k0');
    expect(said.length).toBe(102);
    expect(said.slice(-2)).toEqual(['k100', 'k0']);
  });
});
