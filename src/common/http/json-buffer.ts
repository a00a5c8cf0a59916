/**
 * The JSON text of `value` (the same bytes as `JSON.stringify`) written into one UTF-8 buffer a member at
 * a time: no string of the whole answer is ever made. A string of a large answer (a subject's report of
 * 1,000 events is ~440 KB) is too large for V8's young generation and is allocated in the old one, where
 * a few dozen of them force a full collection (measured on the 1M-event demo ledger: one every ~20 reports,
 * 5–12 ms of pause plus up to 20 ms of marking steps inside the requests that hit it). The small strings
 * made here die young, and the buffer lives outside the JS heap.
 *
 * Plain objects and arrays are walked down to `depth` levels; below that, and for anything with a
 * `toJSON` (dates) or another prototype, each member is `JSON.stringify`'d whole.
 */
export function jsonBuffer(value: unknown, depth = 2): Buffer {
  const out = new Writer();
  write(out, value, depth);
  return out.done();
}

class Writer {
  private buf = Buffer.allocUnsafe(64 * 1024);
  private length = 0;

  push(text: string) {
    // At most 3 bytes of UTF-8 per UTF-16 unit.
    const room = this.length + text.length * 3;
    if (room > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(room, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    this.length += this.buf.write(text, this.length, 'utf8');
  }

  done(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

const walkable = (v: unknown): v is Record<string, unknown> | unknown[] =>
  typeof v === 'object' && v !== null && (Array.isArray(v) || (Object.getPrototypeOf(v) === Object.prototype && typeof (v as { toJSON?: unknown }).toJSON !== 'function'));

function write(out: Writer, value: unknown, depth: number): void {
  if (depth <= 0 || !walkable(value)) {
    out.push(JSON.stringify(value) ?? 'null');
    return;
  }
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i) out.push(',');
      const item = value[i];
      // As JSON.stringify writes them in an array.
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') out.push('null');
      else write(out, item, depth - 1);
    }
    out.push(']');
    return;
  }
  out.push('{');
  let first = true;
  for (const key of Object.keys(value)) {
    const member = value[key];
    // As JSON.stringify leaves them out of an object.
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    out.push(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
    first = false;
    write(out, member, depth - 1);
  }
  out.push('}');
}
