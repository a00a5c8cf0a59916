import { parentPort } from 'node:worker_threads';
import { digestLine } from '../integrity/domain/log-verifier.js';

/**
 * Digests blocks of whole lines for `pdl verify` (leaf hash, position, `prev`) beside the thread that
 * reads the file and folds the tree. Answers each block, in order, with flat arrays.
 */
export interface DigestedBlock {
  readonly id: number;
  readonly count: number;
  /** NaN where a line is not an entry. */
  readonly positions: Float64Array;
  readonly leaves: Uint8Array;
  readonly prevs: Uint8Array;
  /** Length of each `prev` (≤ 32), or 255 when it is absent. */
  readonly prevLengths: Uint8Array;
}

const port = parentPort!;
port.on('message', ({ id, block }: { id: number; block: Uint8Array }) => {
  const buf = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
    lines.push(buf.subarray(start, nl));
    start = nl + 1;
  }
  if (start < buf.length) lines.push(buf.subarray(start));
  const out: DigestedBlock = {
    id, count: lines.length,
    positions: new Float64Array(lines.length), leaves: new Uint8Array(32 * lines.length),
    prevs: new Uint8Array(32 * lines.length), prevLengths: new Uint8Array(lines.length),
  };
  lines.forEach((line, j) => {
    const d = digestLine(line);
    out.positions[j] = d.position ?? NaN;
    out.leaves.set(d.leaf, 32 * j);
    if (d.prev === null) out.prevLengths[j] = 255;
    else {
      const p = d.prev.subarray(0, 32);
      out.prevs.set(p, 32 * j);
      out.prevLengths[j] = p.length === 32 && d.prev.length === 32 ? 32 : Math.min(31, p.length);
    }
  });
  port.postMessage(out, [out.positions.buffer as ArrayBuffer, out.leaves.buffer as ArrayBuffer, out.prevs.buffer as ArrayBuffer, out.prevLengths.buffer as ArrayBuffer]);
});
