import type { ProcessingEntry } from '../ledger/domain/log-entry.js';
import type { AuditFilter } from './audit-trail-read-model.port.js';

/**
 * A facet of a processing entry, as the trail's facet indexes key it: its type, purpose, system, each
 * category, and (PostgreSQL only: SQLite has an index of the trail's own for it) its recipient. A filter
 * on any of them starts from the facet's own positions instead of walking the whole trail: a facet nobody
 * has costs nothing, a rare one its few positions.
 */
export type FacetKind = 'type' | 'purpose' | 'system' | 'category' | 'recipient';

export const facet = (kind: FacetKind, value: string): string => `${kind[0]}:${value}`;

/** The entry's facets, each once (recipients aside). */
export const facetsOf = (e: ProcessingEntry): string[] => [
  facet('type', e.type), facet('purpose', e.purpose), facet('system', e.system), ...new Set(e.categories.map((c) => facet('category', c))),
];

/** The facets a filter names (recipients aside). */
export const filterFacets = (filter: AuditFilter): string[] => [
  ...(filter.type !== undefined ? [facet('type', filter.type)] : []), ...(filter.purpose !== undefined ? [facet('purpose', filter.purpose)] : []),
  ...(filter.system !== undefined ? [facet('system', filter.system)] : []), ...(filter.category !== undefined ? [facet('category', filter.category)] : []),
];
