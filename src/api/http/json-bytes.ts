/** Items of the long list serialised at a time (~45 KB of JSON for a report's history). */
const SLICE = 100;

/**
 * `value` as UTF-8 JSON, its long list `key` (written last) serialised `SLICE` items at a time. The text of
 * the whole at once is one string beyond V8's large-object size (128 KB), made of parts that must be copied
 * into fresh memory before it can be encoded: on the 1,000-event report (~440 KB), that copy alone took
 * ~1.5 ms, as long as `JSON.stringify` itself; slices of the list stay in the young generation.
 */
export function jsonBytes<T extends object, K extends keyof T & string>(value: T, key: K): Buffer {
  const { [key]: list, ...rest } = value;
  if (!Array.isArray(list)) return Buffer.from(JSON.stringify(value), 'utf8');
  const head = JSON.stringify(rest);
  const parts = [`${head.length > 2 ? `${head.slice(0, -1)},` : '{'}${JSON.stringify(key)}:[`];
  for (let i = 0; i < list.length; i += SLICE) {
    const slice = JSON.stringify(list.slice(i, i + SLICE));
    parts.push(i === 0 ? slice.slice(1, -1) : `,${slice.slice(1, -1)}`);
  }
  parts.push(']}');
  return utf8Bytes(parts);
}

/** Parts of a text encoded one after the other into one buffer, without making the whole text a string. */
export function utf8Bytes(parts: readonly string[]): Buffer {
  let size = 0;
  for (const p of parts) size += Buffer.byteLength(p, 'utf8');
  const bytes = Buffer.allocUnsafe(size);
  let at = 0;
  for (const p of parts) at += bytes.write(p, at, 'utf8');
  return bytes;
}
