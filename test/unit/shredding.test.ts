import { shredPlan } from '../../src/keys/domain/shredding.js';
import type { Holding } from '../../src/compliance/domain/subject-state.js';
import type { PurposeBody } from '../../src/declarations/domain/declaration.js';

const purpose = (retention: PurposeBody['retention']): PurposeBody => ({ title: 't', legalBasis: 'legal-obligation', categories: ['user.device.ip_address'], retention, lawReference: 'FR LCEN' });
const PURPOSES: Record<string, PurposeBody> = {
  session: { ...purpose({ period: 'PT30M', from: 'last-activity' }), legalBasis: 'legitimate-interests' },
  law: purpose({ period: 'P1Y', from: 'collection', minimum: 'P1Y' }),
};
const lookup = (p: string) => PURPOSES[p] ?? null;
const holding = (category: string, system: string, from: string, to: string | null, purposes: Record<string, string>): Holding => ({ category, system, from, to, purposes: new Map(Object.entries(purposes)) });
const IP = 'user.device.ip_address';
const EMAIL = 'user.contact.email';
const at = '2026-06-01T00:00:00.000Z';

describe('what the ledger may forget', () => {
  it('destroys a key once its category is erased from every system that held it', () => {
    const h = [holding(IP, 'core', '2026-01-10T09:00:00.000Z', '2026-01-10T09:36:00.000Z', { session: '2026-01-10T09:00:00.000Z' })];
    expect(shredPlan([IP], h, at, lookup, () => undefined, null)).toEqual([{ category: IP, action: 'destroy', reason: 'erased-everywhere' }]);
  });

  it('keeps it while another system still holds the category', () => {
    const h = [holding(EMAIL, 'core', '2026-01-10T10:00:00.000Z', '2026-04-10T09:00:00.000Z', { session: '2026-01-10T10:00:00.000Z' }), holding(EMAIL, 'plugins', '2026-01-10T10:10:00.000Z', null, { session: '2026-01-10T10:10:00.000Z' })];
    expect(shredPlan([EMAIL], h, at, lookup, () => undefined, null)).toEqual([{ category: EMAIL, action: 'keep' }]);
    expect(shredPlan([EMAIL], h, at, lookup, () => undefined, 'erasure-request')).toEqual([{ category: EMAIL, action: 'destroy', reason: 'erasure-request' }]);
  });

  it('holds a key while a legal minimum runs, even after the systems erased it, and lets it go when the hold ends', () => {
    const h = [holding(IP, 'core', '2026-02-01T09:00:00.000Z', '2026-02-15T09:00:00.000Z', { law: '2026-02-01T09:00:00.000Z' })];
    expect(shredPlan([IP], h, at, lookup, () => undefined, null)).toEqual([{ category: IP, action: 'hold', until: '2027-02-01T09:00:00.000Z', purpose: 'law', legalBasis: 'FR LCEN' }]);
    expect(shredPlan([IP], h, '2027-02-01T09:00:00.000Z', lookup, () => undefined, null, new Set([IP]))).toEqual([{ category: IP, action: 'destroy', reason: 'hold-ended' }]);
  });

  it('never destroys what nobody asked to erase', () => {
    const h = [holding(IP, 'core', '2026-01-10T09:00:00.000Z', null, { session: '2026-01-10T09:00:00.000Z' })];
    expect(shredPlan([IP], h, '2030-01-01T00:00:00.000Z', lookup, () => undefined, null)).toEqual([{ category: IP, action: 'keep' }]);
    expect(shredPlan([IP], [], at, lookup, () => undefined, null)).toEqual([{ category: IP, action: 'keep' }]);
    expect(shredPlan([IP], [], at, lookup, () => undefined, 'subject-forgotten')).toEqual([{ category: IP, action: 'destroy', reason: 'subject-forgotten' }]);
  });
});
