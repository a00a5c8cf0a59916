import { readFileSync } from 'node:fs';
import { binNodeFlags } from '../../src/cli/node-flags.js';

describe('the Node flags a ledger process runs with', () => {
  it('are the same on the bin\'s first line (used by `pdl demo` for its server) as in `npm start`', () => {
    const flags = binNodeFlags('bin/pdl.js');
    expect(flags.length).toBeGreaterThan(0);
    for (const f of flags) expect(f).toMatch(/^--[a-z-]+(=\d+)?$/);
    const start = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start;
    expect(/\bnode((?:\s+--\S+)*)\s+bin\/pdl\.js serve$/.exec(start)?.[1]?.trim().split(/\s+/)).toEqual(flags);
  });
});
