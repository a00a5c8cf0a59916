import * as t from 'io-ts';
import { boundedString, oneOf, struct } from '../../common/kernel/codec.js';
import { CategoryKey, Uuid } from '../../common/kernel/ids.js';
import { addIso } from '../../compliance/domain/calendar.js';
import type { Holding, PurposeLookup } from '../../compliance/domain/subject-state.js';

/**
 * Why a key was destroyed: its category was erased from every system that held it; the subject's
 * erasure request was completed; the subject was forgotten as a whole (`pdl forget`); or a legal hold
 * that kept it ended. (Each, only once no legal minimum retention applies any more.)
 */
export const SHRED_REASONS = ['erased-everywhere', 'erasure-request', 'subject-forgotten', 'hold-ended'] as const;
export type ShredReason = (typeof SHRED_REASONS)[number];

/** What the log records of a shredding (Art. 17, 5(2)): which key, why; never the key. */
export const ShredRecord = struct('a destroyed key', {
  subject: boundedString('a subject id', 256), category: CategoryKey, reason: oneOf('a reason', SHRED_REASONS),
}, { request: Uuid });
export type ShredRecord = t.TypeOf<typeof ShredRecord>;

/** What the log records of `pdl forget`: the subject is to be forgotten as a whole. */
export const ForgetRecord = struct('a forgotten subject', { subject: boundedString('a subject id', 256) }, { reason: boundedString('a reason', 2000) });
export type ForgetRecord = t.TypeOf<typeof ForgetRecord>;

export type ShredStep =
  | { readonly category: string; readonly action: 'destroy'; readonly reason: ShredReason }
  | { readonly category: string; readonly action: 'hold'; readonly until: string; readonly purpose: string; readonly legalBasis: string }
  | { readonly category: string; readonly action: 'keep' };

/**
 * What to do at `at` (fixed-width UTC text) with each category of a subject that still has a key. A key
 * may go once its category is erased from every system that held it, or once the subject as a whole is
 * to be erased (`whole`: a completed erasure request, or `pdl forget`); it is kept while a legal minimum
 * retention of a purpose it was processed for still runs (counted from collection, or from the last
 * activity), and goes when that hold ends.
 */
export function shredPlan(
  categories: readonly string[],
  holdings: readonly Holding[],
  at: string,
  purposes: PurposeLookup,
  lastActivity: (at: string) => string | undefined,
  whole: 'erasure-request' | 'subject-forgotten' | null,
  heldBefore: ReadonlySet<string> = new Set(),
): ShredStep[] {
  return categories.map((category): ShredStep => {
    const mine = holdings.filter((h) => h.category === category);
    const erasedEverywhere = mine.length > 0 && mine.every((h) => h.to !== null && h.to <= at);
    if (!whole && !erasedEverywhere) return { category, action: 'keep' };
    let hold: { until: string; purpose: string; legalBasis: string } | null = null;
    for (const h of mine) {
      for (const [purpose, firstAt] of h.purposes) {
        const p = purposes(purpose);
        if (!p?.retention.minimum) continue;
        const start = p.retention.from === 'collection' ? firstAt : (lastActivity(at) ?? firstAt);
        const until = addIso(start, p.retention.minimum).toISOString();
        if (until > at && (!hold || until > hold.until)) hold = { until, purpose, legalBasis: p.lawReference ?? p.legalBasis };
      }
    }
    if (hold) return { category, action: 'hold', ...hold };
    const reason: ShredReason = heldBefore.has(category) ? 'hold-ended' : erasedEverywhere ? 'erased-everywhere' : whole!;
    return { category, action: 'destroy', reason };
  });
}
