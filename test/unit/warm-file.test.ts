import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seemsCached, warmFile } from '../../src/common/sqlite/warm-file.js';

describe('warming a file before a rebuild (warmFile)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pdl-warm-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const notCached = () => false;

  it('reads the whole file, in chunks, when it fits in the share of available memory', () => {
    const file = join(dir, 'big');
    const size = 3 * (1 << 20) + 17;
    writeFileSync(file, Buffer.alloc(size, 7));
    expect(warmFile(file, 0.5, () => 2 * size, notCached)).toBe(size);
  });

  it('skips a file larger than that share, and an empty one', () => {
    const file = join(dir, 'small');
    writeFileSync(file, Buffer.alloc(1000, 1));
    expect(warmFile(file, 0.5, () => 1999, notCached)).toBe(0);
    expect(warmFile(file, 0.5, () => 2000, notCached)).toBe(1000);
    writeFileSync(join(dir, 'empty'), '');
    expect(warmFile(join(dir, 'empty'), 0.5, () => 1e12, notCached)).toBe(0);
  });

  it('skips a file the page cache seems to hold already, asked with its descriptor and size', () => {
    const file = join(dir, 'cached');
    writeFileSync(file, Buffer.alloc(5000, 2));
    const asked: number[] = [];
    expect(warmFile(file, 0.5, () => 1e12, (fd, size) => { asked.push(size); return fd >= 0; })).toBe(0);
    expect(asked).toEqual([5000]);
  });

  it('takes pages for cached when at least 7 of 8 were read in under 40 µs', () => {
    const fast = Array.from({ length: 64 }, () => 6);
    expect(seemsCached(fast)).toBe(true);
    expect(seemsCached([...fast.slice(0, 56), ...Array.from({ length: 8 }, () => 500)])).toBe(true);
    expect(seemsCached([...fast.slice(0, 55), ...Array.from({ length: 9 }, () => 85)])).toBe(false);
    expect(seemsCached(Array.from({ length: 64 }, () => 85))).toBe(false);
    expect(seemsCached([])).toBe(false);
  });
});
