import { categoryOfIdentifier, normaliseIdentifier } from '../../ledger/domain/personal-data.js';
import type { SealedIdentifier } from '../../ledger/domain/log-entry.js';
import { aad, blindIndex, generationOf, open, seal } from '../domain/sealing.js';
import { keyRefId, type IndexEntry, type KeyRef, type KeyStore } from '../key-store.port.js';

/** Data keys read for one answer (subject, category, generation → key, or null when gone). */
export type KeyMemo = Map<string, Buffer | null>;

/** What a reader sees in place of a value whose key was destroyed. */
export const ERASED = '[erased]';

export interface PlainSubject {
  readonly id: string;
  readonly identifiers?: Readonly<Record<string, string>>;
}

/**
 * Seals a subject's identifiers under the (tenant, subject, category) data keys, stages their
 * blind-index entries, and opens them again for readers allowed to see them.
 */
export class IdentifierVault {
  constructor(private readonly keys: KeyStore) {}

  /**
   * Seals the identifiers of many events of one tenant, creating keys as needed (staged, not yet
   * durable), and answers the blind-index entries to add once the events are committed.
   */
  async sealAll(tenant: string, items: ReadonlyArray<{ eventId: string; subject: PlainSubject }>): Promise<{ sealed: Array<SealedIdentifier[] | undefined>; index: IndexEntry[] }> {
    const refs: KeyRef[] = [];
    for (const { subject } of items) {
      for (const kind of Object.keys(subject.identifiers ?? {})) refs.push({ subject: subject.id, category: categoryOfIdentifier(kind) });
    }
    if (refs.length === 0) return { sealed: items.map(() => undefined), index: [] };
    const dataKeys = await this.keys.dataKeys(tenant, refs, true);
    const indexKey = await this.keys.indexKey(tenant);
    const index: IndexEntry[] = [];
    const sealed = items.map(({ eventId, subject }) => {
      const ids = subject.identifiers;
      if (!ids || Object.keys(ids).length === 0) return undefined;
      return Object.entries(ids).map(([kind, value]) => {
        const category = categoryOfIdentifier(kind);
        const key = dataKeys.get(keyRefId({ subject: subject.id, category }))!;
        index.push({ hmac: blindIndex(indexKey, kind, normaliseIdentifier(kind, value)), subject: subject.id, category });
        return { category, ciphertext: seal(key.key, key.generation, value, aad.identifier(tenant, subject.id, category, eventId, kind)), kind };
      });
    });
    return { sealed, index };
  }

  /**
   * The subjects whose identifier of `kind` is `value` (normalised as when it was recorded), with the
   * categories it was recorded under; found through the blind index, never by comparing plaintext.
   */
  async findSubjects(tenant: string, kind: string, value: string): Promise<Array<{ subject: string; categories: string[] }>> {
    const key = await this.keys.existingIndexKey(tenant);
    if (!key) return [];
    const bySubject = new Map<string, Set<string>>();
    for (const { subject, category } of await this.keys.lookup(tenant, blindIndex(key, kind, normaliseIdentifier(kind, value)))) {
      bySubject.set(subject, (bySubject.get(subject) ?? new Set()).add(category));
    }
    return [...bySubject].map(([subject, categories]) => ({ subject, categories: [...categories].sort() }));
  }

  /** The blind-index entries of an already sealed subject, for rebuilding the index from the log. */
  async indexEntriesOf(tenant: string, subject: string, eventId: string, sealed: readonly SealedIdentifier[], memo?: KeyMemo): Promise<IndexEntry[]> {
    const opened = await this.openAll(tenant, subject, eventId, sealed, memo);
    const indexKey = await this.keys.indexKey(tenant);
    return sealed
      .filter((s) => opened[s.kind] !== ERASED)
      .map((s) => ({ hmac: blindIndex(indexKey, s.kind, normaliseIdentifier(s.kind, opened[s.kind]!)), subject, category: s.category }));
  }

  /**
   * Opens sealed identifiers; a value whose key is gone reads `[erased]`. `memo`: the keys already read
   * by the same answer (a report opens a subject's few keys for each of its events), kept for it alone.
   */
  async openAll(tenant: string, subject: string, eventId: string, sealed: readonly SealedIdentifier[], memo?: KeyMemo): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const s of sealed) {
      const generation = generationOf(s.ciphertext);
      const k = `${subject}\u0000${s.category}\u0000${generation}`;
      let key = memo?.get(k);
      if (key === undefined) {
        key = generation === null ? null : await this.keys.dataKeyGeneration(tenant, { subject, category: s.category }, generation);
        memo?.set(k, key);
      }
      const plain = key ? open(key, s.ciphertext, aad.identifier(tenant, subject, s.category, eventId, s.kind)) : null;
      out[s.kind] = plain ? plain.toString('utf8') : ERASED;
    }
    return out;
  }
}
