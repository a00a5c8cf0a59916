/**
 * Look-ups of single keys asked within one turn of the event loop, answered by one look-up of them all
 * (made once the turn's I/O callbacks have run). A look-up is never joined to one already sent: every
 * answer is read after its question was asked (a token revoked before a request arrived is seen so).
 */
export function coalesced<K, V>(many: (keys: K[]) => Promise<ReadonlyMap<K, V>>): (key: K) => Promise<V | undefined> {
  type Waiter = { resolve: (v: V | undefined) => void; reject: (e: unknown) => void };
  let waiting: Map<K, Waiter[]> | null = null;
  const send = (batch: Map<K, Waiter[]>) => {
    waiting = null;
    many([...batch.keys()]).then(
      (found) => { for (const [k, ws] of batch) for (const w of ws) w.resolve(found.get(k)); },
      (e) => { for (const ws of batch.values()) for (const w of ws) w.reject(e); },
    );
  };
  return (key) => new Promise<V | undefined>((resolve, reject) => {
    if (!waiting) {
      const batch = (waiting = new Map());
      setImmediate(() => send(batch));
    }
    const ws = waiting.get(key);
    if (ws) ws.push({ resolve, reject });
    else waiting.set(key, [{ resolve, reject }]);
  });
}
