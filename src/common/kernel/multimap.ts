/** Adds `values` to the end of the list `map` holds for `key` (a new list when it holds none). */
export function pushTo<K, V>(map: Map<K, V[]>, key: K, ...values: V[]): void {
  const list = map.get(key);
  if (!list) map.set(key, values);
  else for (const v of values) list.push(v);
}
