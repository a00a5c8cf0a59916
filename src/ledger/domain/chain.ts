import type { NewEvent } from '../event-store.port.js';
import { canonicalBytes, leafHash } from './canonical.js';

/** What linking needs of a log entry: its position, and the link to the one before. */
export interface Linkable {
  readonly position: number;
  readonly prev?: string;
}

/** An entry linked into its log: the entry with its `prev`, its canonical bytes, its leaf hash (bytes and hex). */
export interface Linked<E> {
  readonly entry: E;
  readonly data: Buffer;
  readonly leaf: Buffer;
  readonly hash: string;
}

/**
 * `entry` linked to the entry before it in the tenant's log: `prev` is that one's leaf hash (hex),
 * absent for the first entry of a log. The entry's canonical bytes are what is stored and hashed.
 */
export function linkOne<E extends Linkable>(entry: E, prev: string | undefined): Linked<E> {
  const linked = prev === undefined ? entry : { ...entry, prev };
  const data = canonicalBytes(linked);
  const leaf = leafHash(data);
  return { entry: linked, data, leaf, hash: leaf.toString('hex') };
}

/**
 * Entries placed at positions `first`, `first + 1`… and linked one to the next, the first to `prev`:
 * how a writer chains what it appends, and how a store links again entries that another process's
 * appends overtook (their old positions and links replaced).
 */
export function link<E extends Linkable>(entries: readonly E[], first: number, prev: string | undefined): Array<Linked<E>> {
  const out: Array<Linked<E>> = [];
  for (const [k, e] of entries.entries()) {
    const { prev: _, ...unlinked } = e;
    const l = linkOne({ ...unlinked, position: first + k } as unknown as E, prev);
    prev = l.hash;
    out.push(l);
  }
  return out;
}

/** A linked entry as an event store takes it: its id, type, bytes and leaf hash, the entry itself for inline projections. */
export const toNewEvent = <E extends Linkable & { readonly eventId: string; readonly type: string }>(l: Linked<E>): NewEvent =>
  ({ eventId: l.entry.eventId, type: l.entry.type, data: l.data, leafHash: l.leaf, context: l.entry });
