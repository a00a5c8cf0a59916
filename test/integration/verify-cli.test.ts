import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryTree } from '../../src/integrity/domain/merkle.js';
import { canonicalBytes, leafHash } from '../../src/ledger/domain/canonical.js';
import { ROOT, tempDir } from '../support/ledger-process.js';

const pdl = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'pdl.js'), ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });

/** A chained log large enough to cross the verifier's read blocks many times (several MB). */
function bigLog(n: number): { lines: string[]; root: string } {
  const lines: string[] = [];
  const tree = new MemoryTree();
  let prev: string | undefined;
  for (let i = 0; i < n; i++) {
    const bytes = canonicalBytes({ v: 1, tenant: 'acme', position: i, eventId: `e-${i}`, type: 'collected', details: { pad: 'x'.repeat(200 + (i % 97)), n: i }, ...(prev ? { prev } : {}) });
    const leaf = leafHash(bytes);
    tree.push(leaf);
    prev = leaf.toString('hex');
    lines.push(bytes.toString('utf8'));
  }
  return { lines, root: tree.root().toString('hex') };
}

describe('pdl verify on a multi-megabyte export', () => {
  const N = 12_000;
  const { lines, root } = bigLog(N);
  const dir = tempDir('pdl-verify-big-');
  const cp = join(dir, 'cp.json');
  writeFileSync(cp, JSON.stringify({ treeSize: N, rootHash: root }));
  const run = (name: string, content: string[], trailing = '\n') => {
    const f = join(dir, name);
    writeFileSync(f, content.join('\n') + trailing);
    return pdl('verify', f, '--checkpoint', cp);
  };

  it('accepts it whole, with or without the final newline', () => {
    expect(run('ok.ndjson', lines)).toMatchObject({ status: 0, stdout: expect.stringContaining(`ok: ${N} entries`) });
    expect(run('ok-no-newline.ndjson', lines, '')).toMatchObject({ status: 0 });
  });

  it('names the first changed entry wherever it falls among the read blocks', () => {
    for (const k of [1, 1800, 1801, 5000, 9999, N - 2]) {
      const bad = [...lines];
      bad[k] = bad[k]!.replace('"n":', '"n":1');
      const r = run(`bad-${k}.ndjson`, bad);
      expect([k, r.status, r.stderr]).toEqual([k, 1, expect.stringContaining(`FAILED at position ${k}:`)]);
    }
  });

  it('names removed and swapped entries deep in the file, and a missing tail', () => {
    expect(run('removed.ndjson', lines.filter((_, i) => i !== 7000)).stderr).toContain('FAILED at position 7000:');
    const swapped = [...lines];
    [swapped[8000], swapped[8001]] = [swapped[8001]!, swapped[8000]!];
    expect(run('swapped.ndjson', swapped).stderr).toContain('FAILED at position 8000:');
    expect(run('short.ndjson', lines.slice(0, 10_000)).stderr).toContain('FAILED at position 10000:');
  });
});

describe('pdl verify and pdl import given no file to read', () => {
  const dir = tempDir('pdl-verify-nofile-');
  const refusal = (...args: string[]) => { const r = pdl(...args); return { status: r.status, stdout: r.stdout, stderr: r.stderr.trim() }; };

  it('exit 2 naming a missing path, or a directory, before reading anything', () => {
    expect(refusal('verify', join(dir, 'missing.ndjson'))).toEqual({ status: 2, stdout: '', stderr: `pdl: no such file: ${join(dir, 'missing.ndjson')}` });
    expect(refusal('verify', dir)).toEqual({ status: 2, stdout: '', stderr: `pdl: ${dir} is a directory, not a file` });
    expect(refusal('import', dir, '--tenant', 'acme', '--data-dir', join(dir, 'ledger'))).toEqual({ status: 2, stdout: '', stderr: `pdl: ${dir} is a directory, not a file` });
  });
});
