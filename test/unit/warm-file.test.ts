import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { warmFile } from '../../src/common/sqlite/warm-file.js';

describe('warming a file before a rebuild (warmFile)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pdl-warm-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the whole file, in chunks, when it fits in the share of available memory', () => {
    const file = join(dir, 'big');
    const size = 3 * (1 << 20) + 17;
    writeFileSync(file, Buffer.alloc(size, 7));
    expect(warmFile(file, 0.5, () => 2 * size)).toBe(size);
  });

  it('skips a file larger than that share, and an empty one', () => {
    const file = join(dir, 'small');
    writeFileSync(file, Buffer.alloc(1000, 1));
    expect(warmFile(file, 0.5, () => 1999)).toBe(0);
    expect(warmFile(file, 0.5, () => 2000)).toBe(1000);
    writeFileSync(join(dir, 'empty'), '');
    expect(warmFile(join(dir, 'empty'))).toBe(0);
  });
});
