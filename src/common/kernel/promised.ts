/** The asynchronous form of an object's methods: what a port looks like when some adapter needs the network. */
export type Promised<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : T[K] };

/**
 * `impl`'s methods, answering promises: how a synchronous adapter (SQLite, in this process) serves a port
 * that other adapters (PostgreSQL) answer over the network. A method that throws gives a rejected promise.
 */
export function promised<T extends object>(impl: T): Promised<T> {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(impl, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      let w = wrapped.get(key);
      if (!w) {
        const fn = value as (...args: unknown[]) => unknown;
        w = (...args: unknown[]) => {
          try {
            return Promise.resolve(fn.apply(target, args));
          } catch (e) {
            return Promise.reject(e);
          }
        };
        wrapped.set(key, w);
      }
      return w;
    },
  }) as unknown as Promised<T>;
}

/** A port's synchronous form, which an in-process adapter implements before `promised` serves it. */
export type Synchronous<T> = { [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : T[K] };
