import type { PurposeBody, RecipientBody, SystemBody } from '../../declarations/domain/declaration.js';
import type { ProcessingType } from '../../ledger/domain/processing-event.js';
import type { ProcessingEntry } from '../../ledger/domain/log-entry.js';
import { sortableInstant } from '../../common/kernel/time.js';
import { finding, type Finding } from './finding.js';
import { adequacyCovers, residencyCountries } from './reference-data.js';

/** The event being judged (as recorded; `occurredAt` normalised RFC 3339 UTC). */
export interface Fact {
  /** The recorded event (absent for a proposed action). */
  readonly eventId?: string;
  readonly type: ProcessingType;
  readonly subject: string;
  readonly categories: readonly string[];
  readonly purpose: string;
  readonly system: string;
  readonly occurredAt: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The fact a recorded processing event states. */
export const factOf = (e: ProcessingEntry): Fact => ({
  eventId: e.eventId, type: e.type, subject: e.subject.id, categories: e.categories, purpose: e.purpose, system: e.system, occurredAt: e.occurredAt,
  ...(e.details ? { details: e.details } : {}),
});

/**
 * The authority request a fact refers to, as it stood just before log position `at` (Infinity: now): a
 * request recorded later does not exist yet for it, and a decision recorded later is not made yet.
 */
export function authorityRequestAt(row: { authority: string; decision: 'comply' | 'refuse' | null; position: number; decided_position: number | null } | undefined, at: number): SubjectFacts['authorityRequest'] {
  if (!row || row.position >= at) return null;
  return { authority: row.authority, decision: row.decided_position !== null && row.decided_position < at ? row.decision : null };
}

/** The declarations in force when the event is recorded. */
export interface Policy {
  readonly residency: readonly string[];
  readonly purpose: PurposeBody | null;
  readonly system: SystemBody | null;
  /** The declaration of the recipient the event names; null when it names one that is not declared. */
  readonly recipient: RecipientBody | null;
}

/** What the rules need of the subject's state, judged at the event's `occurredAt`. */
export interface SubjectFacts {
  /** An active consent to the event's purpose. */
  readonly consented: boolean;
  /** A restriction of processing (Art. 18) in force. */
  readonly restricted: boolean;
  /** An objection (Art. 21) to the event's purpose in force. */
  readonly objected: boolean;
  /** The event's categories erased from every system that held them and not collected again. */
  readonly erased: readonly string[];
  /** For an erasure: the legal minimums still running for what it erases. */
  readonly minimums: ReadonlyArray<{ readonly category: string; readonly purpose: string; readonly until: string }>;
  /** The authority request the event refers to (`details.authorityRequestId`), if it exists. */
  readonly authorityRequest: { readonly authority: string; readonly decision: 'comply' | 'refuse' | null } | null;
}

export type Rule = (fact: Fact, policy: Policy, subject: SubjectFacts) => Finding | null;

/** Which parts of the subject's state the rules can use for this fact (the others need not be looked up). */
export function needs(fact: Fact, policy: Policy): { consent: boolean; restriction: boolean; erasure: boolean; minimums: boolean } {
  return {
    consent: policy.purpose?.legalBasis === 'consent' && USES_DATA.has(fact.type),
    restriction: fact.type === 'used' || fact.type === 'disclosed',
    erasure: fact.type === 'used' || fact.type === 'disclosed' || fact.type === 'transferred',
    minimums: fact.type === 'erased',
  };
}

const USES_DATA = new Set<ProcessingType>(['collected', 'stored', 'used', 'rectified', 'disclosed', 'transferred', 'activity']);
const recipientOf = (f: Fact): string | null => (typeof f.details?.recipient === 'string' ? f.details.recipient : null);
const sendsData = (f: Fact) => f.type === 'disclosed' || (f.type === 'transferred' && recipientOf(f) !== null);
const list = (xs: readonly string[]) => xs.map((x) => `"${x}"`).join(', ');
const day = (instant: string) => instant.slice(0, 10);

export const purposeUndeclared: Rule = (f, p) =>
  p.purpose ? null : finding('purpose-undeclared', `${f.type} for the purpose "${f.purpose}", which is not declared: no legal basis covers it.`);

export const systemUnknown: Rule = (f, p) =>
  p.system ? null : finding('system-unknown', `${f.type} in the system "${f.system}", which is not declared.`);

export const categoryNotDeclared: Rule = (f, p) => {
  if (!p.purpose || !USES_DATA.has(f.type)) return null;
  const outside = f.categories.filter((c) => !p.purpose!.categories.includes(c));
  return outside.length ? finding('category-not-declared', `${f.type} ${list(outside)} for the purpose "${f.purpose}", which declares only ${list(p.purpose.categories)}.`) : null;
};

export const consentMissing: Rule = (f, p, s) =>
  p.purpose?.legalBasis === 'consent' && USES_DATA.has(f.type) && !s.consented
    ? finding('consent-missing', `${f.type} for "${f.purpose}", whose legal basis is consent, while the subject had no active consent on ${day(f.occurredAt)}.`)
    : null;

export const recipientUnknown: Rule = (f, p) => {
  const r = recipientOf(f);
  return sendsData(f) && r !== null && !p.recipient ? finding('recipient-unknown', `${f.type} to "${r}", which is not a declared recipient.`) : null;
};

export const agreementMissing: Rule = (f, p) => {
  const r = p.recipient;
  if (!sendsData(f) || !r || r.kind === 'public-authority') return null;
  const a = r.agreement;
  const at = sortableInstant(f.occurredAt);
  if (a && sortableInstant(a.signedAt) <= at && (!a.expiresAt || at < sortableInstant(a.expiresAt))) return null;
  const why = !a ? 'has no agreement on file' : sortableInstant(a.signedAt) > at ? `signed its agreement ${a.reference} only on ${day(a.signedAt)}` : `had its agreement ${a.reference} expire on ${day(a.expiresAt!)}`;
  return finding('agreement-missing', `${f.type} to the ${r.kind} "${recipientOf(f)}" on ${day(f.occurredAt)}, which ${why}.`);
};

export const authorityRequestMissing: Rule = (f, p, s) => {
  if (f.type !== 'disclosed' || p.recipient?.kind !== 'public-authority') return null;
  const r = recipientOf(f)!;
  const req = s.authorityRequest;
  if (req && req.authority === r && req.decision === 'comply') return null;
  const why = !req ? 'without an authority request' : req.authority !== r ? 'under a request from another authority' : req.decision === 'refuse' ? 'under a request the organisation decided to refuse' : 'under a request not yet decided';
  return finding('authority-request-missing', `disclosed to the public authority "${r}" ${why}.`);
};

export const locationOutsideResidency: Rule = (f, p) => {
  if (f.type !== 'stored') return null;
  const country = typeof f.details?.country === 'string' ? f.details.country : p.system?.country;
  if (!country || residencyCountries(p.residency).has(country)) return null;
  return finding('location-outside-residency', `stored in ${country} (system "${f.system}"), outside the tenant's residency ${list(p.residency)}.`);
};

export const transferWithoutSafeguard: Rule = (f, p) => {
  if (f.type !== 'transferred') return null;
  const country = typeof f.details?.country === 'string' ? f.details.country : null;
  const mechanism = f.details?.mechanism;
  if (!country || residencyCountries(p.residency).has(country)) return null;
  if (mechanism === 'none') return finding('transfer-without-safeguard', `transferred to ${country}, outside the tenant's residency, with no safeguard.`);
  if (mechanism === 'adequacy' && !adequacyCovers(country, f.occurredAt, p.recipient?.certified === true)) {
    return finding('transfer-without-safeguard', `transferred to ${country} on the ground of an adequacy decision that does not cover it${country === 'US' ? ' (the US decision covers only certified recipients)' : ''}.`);
  }
  return null;
};

export const erasedBeforeMinimum: Rule = (f, _p, s) => {
  if (f.type !== 'erased' || s.minimums.length === 0) return null;
  const m = [...s.minimums].sort((a, b) => (a.until < b.until ? 1 : -1))[0]!;
  return finding('erased-before-minimum', `erased "${m.category}" from "${f.system}" on ${day(f.occurredAt)}, while "${m.purpose}" requires keeping it until ${day(m.until)}.`);
};

export const processingAfterErasure: Rule = (f, _p, s) =>
  (f.type === 'used' || f.type === 'disclosed' || f.type === 'transferred') && s.erased.length
    ? finding('processing-after-erasure', `${f.type} ${list(s.erased)} after it was erased from every system and not collected again.`)
    : null;

export const processingWhileRestricted: Rule = (f, _p, s) => {
  if (f.type !== 'used' && f.type !== 'disclosed') return null;
  if (s.restricted) return finding('processing-while-restricted', `${f.type} while the subject's processing was restricted (Art. 18).`);
  if (s.objected) return finding('processing-while-restricted', `${f.type} for "${f.purpose}", to which the subject objected (Art. 21).`);
  return null;
};

/** Every rule judged when an event is recorded, in a stable order. */
export const RULES: readonly Rule[] = [
  purposeUndeclared, systemUnknown, categoryNotDeclared, consentMissing, recipientUnknown, agreementMissing,
  authorityRequestMissing, locationOutsideResidency, transferWithoutSafeguard, erasedBeforeMinimum,
  processingAfterErasure, processingWhileRestricted,
];

export function judge(fact: Fact, policy: Policy, subject: SubjectFacts): Finding[] {
  return RULES.map((r) => r(fact, policy, subject)).filter((x): x is Finding => x !== null);
}

/** Declaring a purpose that keeps data with no period: raised once per declaration version. */
export function retentionUnbounded(purposeId: string, body: PurposeBody): Finding | null {
  return body.retention.period === null ? finding('retention-unbounded', `the purpose "${purposeId}" keeps ${list(body.categories)} with no retention period.`) : null;
}
