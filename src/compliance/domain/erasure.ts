import { addIso } from './calendar.js';
import type { Holding, PurposeLookup } from './subject-state.js';
import { pushTo } from '../../common/kernel/multimap.js';

export type SystemErasure = { readonly system: string; readonly status: 'erased' } | { readonly system: string; readonly status: 'pending'; readonly categories: readonly string[] }
  | { readonly system: string; readonly status: 'held'; readonly categories: readonly string[]; readonly purpose: string; readonly legalBasis: string; readonly until: string };

/**
 * Where a subject's data stands for an erasure at `at` (fixed-width UTC text), per system that ever held
 * it: `erased` (nothing held any more), `held` (still held, under a legal minimum that runs until `until`),
 * or `pending` (still held, nothing exempts it).
 */
export function erasureStatus(holdings: readonly Holding[], at: string, purposes: PurposeLookup, lastActivity: (at: string) => string | undefined): SystemErasure[] {
  const bySystem = new Map<string, Holding[]>();
  for (const h of holdings) pushTo(bySystem, h.system, h);
  const out: SystemErasure[] = [];
  for (const [system, list] of [...bySystem].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const live = list.filter((h) => h.from <= at && (h.to === null || h.to > at));
    if (live.length === 0) { out.push({ system, status: 'erased' }); continue; }
    const pending: string[] = [];
    let hold: { purpose: string; legalBasis: string; until: string } | null = null;
    for (const h of live) {
      let exempt: { purpose: string; legalBasis: string; until: string } | null = null;
      for (const [purpose, firstAt] of h.purposes) {
        const p = purposes(purpose);
        if (!p?.retention.minimum) continue;
        const start = p.retention.from === 'collection' ? firstAt : (lastActivity(at) ?? firstAt);
        const until = addIso(start, p.retention.minimum).toISOString();
        if (until > at && (!exempt || until > exempt.until)) exempt = { purpose, legalBasis: p.lawReference ?? p.legalBasis, until };
      }
      if (!exempt) pending.push(h.category);
      else if (!hold || exempt.until > hold.until) hold = exempt;
    }
    const categories = [...new Set(live.map((h) => h.category))].sort();
    if (pending.length) out.push({ system, status: 'pending', categories: [...new Set(pending)].sort() });
    else out.push({ system, status: 'held', categories, ...hold! });
  }
  return out;
}
