import { randomUUID } from 'node:crypto';

/**
 * The UTF-8 bytes of `JSON.stringify(value)` — the same bytes — for a value whose field `key` holds a
 * large array: the items are serialised one by one and written into one buffer. Serialised whole, the
 * text is built by V8 in many parts that it must join before it can encode them; for a subject report of
 * 1,000 events (~440 KB) this way takes half the time (measured here: 3.0–3.9 ms → 1.5 ms).
 */
export function jsonBytes<T extends object>(value: T, key: keyof T & string): Buffer {
  const items: unknown = value[key];
  if (!Array.isArray(items)) return Buffer.from(JSON.stringify(value), 'utf8');
  // Where the array goes: a string no value can hold (a random id after a NUL), found once serialised.
  const placeholder = `\u0000${randomUUID()}`;
  const marker = JSON.stringify(placeholder);
  const text = JSON.stringify({ ...value, [key]: placeholder });
  const at = text.indexOf(marker);
  const head = `${text.slice(0, at)}[`;
  const tail = `]${text.slice(at + marker.length)}`;
  // As JSON.stringify writes an array's item that has no JSON form (undefined, a function): null.
  const parts = items.map((x) => (JSON.stringify(x) as string | undefined) ?? 'null');
  let size = Buffer.byteLength(head) + Buffer.byteLength(tail) + Math.max(parts.length - 1, 0);
  for (const p of parts) size += Buffer.byteLength(p);
  const out = Buffer.allocUnsafe(size);
  let offset = out.write(head, 0);
  parts.forEach((p, i) => {
    if (i > 0) offset += out.write(',', offset, 'latin1');
    offset += out.write(p, offset);
  });
  out.write(tail, offset);
  return out;
}
