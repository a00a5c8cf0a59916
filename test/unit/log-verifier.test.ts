import { LogVerifier } from '../../src/integrity/domain/log-verifier.js';
import { MemoryTree } from '../../src/integrity/domain/merkle.js';
import { canonicalBytes, leafHash } from '../../src/ledger/domain/canonical.js';

/** A chained log of `n` canonical entries, as the ledger writes them. */
function log(n: number, details: (i: number) => object = () => ({ source: 'observed' })): Buffer[] {
  const out: Buffer[] = [];
  let prev: string | undefined;
  for (let i = 0; i < n; i++) {
    const bytes = canonicalBytes({ v: 1, tenant: 'acme', position: i, eventId: `e-${i}`, type: 'collected', details: details(i), ...(prev ? { prev } : {}) });
    prev = leafHash(bytes).toString('hex');
    out.push(bytes);
  }
  return out;
}
const rootOf = (lines: Buffer[]) => { const t = new MemoryTree(); for (const l of lines) t.push(leafHash(l)); return t.root(); };
function verify(lines: Buffer[], checkpoint = { treeSize: lines.length, rootHash: rootOf(lines), label: 'the checkpoint' }) {
  const v = new LogVerifier([checkpoint]);
  for (const l of lines) { const p = v.line(l); if (p) return p; }
  return v.end();
}

describe('the streaming log verifier', () => {
  const good = log(20);
  const cp = { treeSize: 20, rootHash: rootOf(good), label: 'the checkpoint' };

  it('accepts the intact log', () => {
    expect(verify(good)).toBeNull();
  });

  it('names a changed entry by the chain of its successor', () => {
    const bad = [...good];
    bad[7] = Buffer.from(bad[7]!.toString().replace('observed', 'observeD'));
    expect(verify(bad, cp)).toMatchObject({ position: 7 });
  });

  it('names a changed last entry by the root', () => {
    const bad = [...good];
    bad[19] = Buffer.from(bad[19]!.toString().replace('observed', 'observeD'));
    expect(verify(bad, cp)).toMatchObject({ position: 19, problem: expect.stringMatching(/root/) });
  });

  it('names removed, inserted and reordered entries where they happen', () => {
    expect(verify(good.filter((_, i) => i !== 5), cp)).toMatchObject({ position: 5 });
    expect(verify([...good.slice(0, 9), good[8]!, ...good.slice(9)], cp)).toMatchObject({ position: 9 });
    const swapped = [...good];
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    expect(verify(swapped, cp)).toMatchObject({ position: 3 });
  });

  it('names where a truncated log stops', () => {
    expect(verify(good.slice(0, 12), cp)).toMatchObject({ position: 12, problem: expect.stringMatching(/missing/) });
  });

  it('catches a chain forged anew after a change, by the root', () => {
    const forged = log(20, (i) => ({ source: i === 4 ? 'forged' : 'observed' }));
    expect(verify(forged, cp)).toMatchObject({ position: 19 });
  });

  it('reads entries whose details carry keys named position or prev', () => {
    const tricky = log(6, (i) => ({ position: 1000 + i, prev: 'x', nested: { position: 3 } }));
    expect(verify(tricky)).toBeNull();
    const bad = [...tricky];
    bad[2] = Buffer.from(bad[2]!.toString().replace('"position":1002', '"position":1003'));
    expect(verify(bad, { treeSize: 6, rootHash: rootOf(tricky), label: 'cp' })).toMatchObject({ position: 2 });
  });

  it('refuses a line that is not an entry', () => {
    expect(verify([good[0]!, Buffer.from('not json'), ...good.slice(2)], cp)).toMatchObject({ position: 1 });
  });
});
