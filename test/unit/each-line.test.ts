import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eachLine } from '../../src/cli/verify.js';
import { tempDir } from '../support/ledger-process.js';

describe('reading an export line by line', () => {
  it.each([1, 2, 7, 64, 1 << 20])('gives the same lines whatever the chunk size (%i bytes)', async (chunk) => {
    const lines = ['{"a":1}', '', '{"b":"' + 'x'.repeat(100) + '"}', 'é😀', '{"last":true}'];
    for (const trailing of ['\n', '']) {
      const f = join(tempDir(), 'log.ndjson');
      writeFileSync(f, lines.join('\n') + trailing);
      const got: string[] = [];
      await eachLine(f, (l) => { got.push(l.toString('utf8')); return true; }, chunk);
      expect(got).toEqual(lines);
    }
  });

  it('stops when told to', async () => {
    const f = join(tempDir(), 'log.ndjson');
    writeFileSync(f, 'a\nb\nc\n');
    const got: string[] = [];
    await eachLine(f, (l) => { got.push(l.toString()); return got.length < 2; }, 1);
    expect(got).toEqual(['a', 'b']);
  });
});
