import type { EventStore } from '../../ledger/event-store.port.js';
import { entryOf } from '../../ledger/entry-of.js';
import { isProcessingEntry } from '../../ledger/domain/log-entry.js';
import { tenantStream } from '../../ledger/domain/streams.js';
import type { IndexEntry, KeyStore } from '../key-store.port.js';
import type { IdentifierVault } from './identifier-vault.js';

/**
 * Completes a tenant's blind index from its log after the index checkpoint: the index is written
 * after each commit without an fsync of its own, so a crash may lose its last entries, never the log's.
 */
export async function recoverBlindIndex(store: EventStore, keys: KeyStore, vault: IdentifierVault, tenant: string, pageSize = 1000): Promise<number> {
  let from = (await keys.indexCheckpoint(tenant)) + 1;
  let added = 0;
  for (;;) {
    const page = await store.readStream(tenantStream(tenant), from, pageSize);
    if (page.length === 0) return added;
    const entries: IndexEntry[] = [];
    for (const recorded of page) {
      const e = entryOf(recorded);
      if (isProcessingEntry(e) && e.subject.identifiers?.length) entries.push(...(await vault.indexEntriesOf(tenant, e.subject.id, e.eventId, e.subject.identifiers)));
    }
    await keys.commit();
    await keys.addIndexEntries(tenant, entries, page[page.length - 1]!.revision);
    added += entries.length;
    from = page[page.length - 1]!.revision + 1;
  }
}
