import { readFileSync } from 'node:fs';

/**
 * The Node flags on the first line of the `pdl` bin (its heap limits): a ledger process started as
 * `node <these> bin/pdl.js serve` runs as `pdl serve` does. `npm start` names the same flags (a test
 * checks that they agree).
 */
export function binNodeFlags(bin: string): string[] {
  const first = readFileSync(bin, 'utf8').split('\n', 1)[0] ?? '';
  return (/\bnode((?:\s+--\S+)*)\s*$/.exec(first)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
}
