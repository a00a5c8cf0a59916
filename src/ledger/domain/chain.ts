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
  const linked = prev === undefined || entry.prev === prev ? entry : { ...entry, prev };
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
    const l = linkAt(e, first + k, prev);
    prev = l.hash;
    out.push(l);
  }
  return out;
}

/** `entry` placed at `position` (its old place and link dropped), linked to `prev`. */
function linkAt<E extends Linkable>(entry: E, position: number, prev: string | undefined): Linked<E> {
  const { prev: _, ...unlinked } = entry;
  return linkOne({ ...unlinked, position } as unknown as E, prev);
}

/**
 * `link` for entries that were linked before (their canonical bytes and the entry parsed from them),
 * placed again at `first`, `first + 1`… after `prev`: how a store links again what another process's
 * appends overtook. Their bytes differ from before only in the top-level `"position":…,"prev":"…"` (the
 * two keys are adjacent in canonical order), replaced in place instead of canonicalising each entry
 * again; an entry without that pair where it must be (no `prev` yet, say) is linked from scratch.
 */
export function relink<E extends Linkable>(entries: ReadonlyArray<{ readonly data: Uint8Array; readonly entry: E }>, first: number, prev: string): Array<Linked<E>> {
  const out: Array<Linked<E>> = [];
  for (const [k, { data, entry }] of entries.entries()) {
    const position = first + k;
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const old = entry.prev === undefined ? null : `"position":${entry.position},"prev":"${entry.prev}"`;
    // The last such pair, between two of the entry's top-level keys: nothing after it can hold one (a
    // nested copy would have to carry the leaf hash of the entry before, unknown when it was written).
    const at = old === null ? -1 : bytes.lastIndexOf(old);
    const end = at + (old?.length ?? 0);
    let l: Linked<E>;
    if (at > 0 && (bytes[at - 1] === 0x2c || bytes[at - 1] === 0x7b) && (bytes[end] === 0x2c || bytes[end] === 0x7d)) {
      const spliced = Buffer.concat([bytes.subarray(0, at), Buffer.from(`"position":${position},"prev":"${prev}"`, 'latin1'), bytes.subarray(end)]);
      const leaf = leafHash(spliced);
      l = { entry: { ...entry, position, prev }, data: spliced, leaf, hash: leaf.toString('hex') };
    } else l = linkAt(entry, position, prev);
    prev = l.hash;
    out.push(l);
  }
  return out;
}

/** A linked entry as an event store takes it: its id, type, bytes and leaf hash, the entry itself for inline projections. */
export const toNewEvent = <E extends Linkable & { readonly eventId: string; readonly type: string }>(l: Linked<E>): NewEvent =>
  ({ eventId: l.entry.eventId, type: l.entry.type, data: l.data, leafHash: l.leaf, context: l.entry });
