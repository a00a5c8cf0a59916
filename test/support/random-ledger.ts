import fc from 'fast-check';
import type { LedgerWriter } from '../../src/ledger/application/ledger-writer.js';
import { decodeAppendBody, PROCESSING_TYPES } from '../../src/ledger/domain/processing-event.js';
import type { DraftEntry } from '../../src/ledger/domain/log-entry.js';
import { scenario } from './builders.js';

const actor = { type: 'admin', id: 'test' } as const;

/** Random ledgers: sequences of actions over the reference story's declarations (property tests of the read models). */
export const SUBJECTS = ['visitor:a', 'visitor:b', 'visitor:c', 'customer:d'];
const PURPOSES = [...scenario.purposes.map((p: { id: string }) => p.id), 'ai-training'];
const SYSTEMS = [...scenario.systems.map((s: { id: string }) => s.id), 'legacy-crm'];
const RECIPIENTS = [...scenario.recipients.map((r: { id: string }) => r.id), 'unknown-partner'];
const CATEGORIES = ['user.device.ip_address', 'user.contact.email', 'user.name', 'user.device.cookie_id', 'user.behavior.browsing_history'];

const anEvent = fc.record({
  type: fc.constantFrom(...PROCESSING_TYPES), subject: fc.constantFrom(...SUBJECTS), purpose: fc.constantFrom(...PURPOSES), system: fc.constantFrom(...SYSTEMS),
  categories: fc.uniqueArray(fc.constantFrom(...CATEGORIES), { minLength: 1, maxLength: 3 }), day: fc.integer({ min: 0, max: 500 }),
  recipient: fc.constantFrom(...RECIPIENTS), withIp: fc.boolean(), request: fc.nat(),
});
export const anAction = fc.oneof(
  { weight: 8, arbitrary: fc.array(anEvent, { minLength: 1, maxLength: 6 }).map((events) => ({ kind: 'events' as const, events })) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('subject-request' as const), subject: fc.constantFrom(...SUBJECTS), type: fc.constantFrom('access', 'erasure'), day: fc.integer({ min: 0, max: 500 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('change-request' as const), which: fc.nat(), change: fc.constantFrom('extend', 'complete') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('authority-request' as const), subject: fc.constantFrom(...SUBJECTS), sealed: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('change-authority' as const), which: fc.nat(), change: fc.constantFrom('decide', 'close', 'unseal') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('accessed' as const), subject: fc.constantFrom(...SUBJECTS) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('redeclare' as const), period: fc.constantFrom('P1M', 'P1Y', null) }) },
);

export const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

export type Action = typeof anAction extends fc.Arbitrary<infer A> ? A : never;

/** Declares tenant `acme` (or `options.tenant`) with the reference story's systems, recipients and purposes, then plays `actions` through `writer`. */
export async function playActions(writer: LedgerWriter, actions: readonly Action[], id: () => string, options: { identifiers?: boolean; tenant?: string } = {}): Promise<void> {
  const tenant = options.tenant ?? 'acme';
  const admin = async (drafts: DraftEntry[]) => {
    const r = await writer.append(tenant, async () => ({ _tag: 'Right', right: { drafts, answer: () => null } }) as never);
    if (r._tag !== 'Right') throw new Error(`an administrative entry was refused: ${JSON.stringify(r.left)}`);
  };
  await admin([{ type: 'tenant-declared', eventId: id(), actor, settings: { name: 'Acme', residency: ['EEA'] } } as DraftEntry]);
  const declarations: DraftEntry[] = [];
  for (const [kind, list] of [['system', scenario.systems], ['recipient', scenario.recipients], ['purpose', scenario.purposes]] as const) {
    for (const { id: did, ...body } of list) declarations.push({ type: `${kind}-declared`, eventId: id(), actor, declaration: { id: did, version: 1, body } } as DraftEntry);
  }
  await admin(declarations);
  const subjectRequests: string[] = [];
  const authorityRequests: string[] = [];
  let version = 1;
  for (const a of actions) {
    const day = (d: number) => new Date(Date.UTC(2026, 0, 1) + d * 86_400_000).toISOString().replace('.000Z', 'Z');
    if (a.kind === 'events') {
      const decoded = decodeAppendBody({ events: a.events.map((e) => ({
        eventId: id(), type: e.type, subject: { id: e.subject, ...(e.withIp && options.identifiers !== false ? { identifiers: { ip: `198.51.100.${SUBJECTS.indexOf(e.subject)}` } } : {}) },
        categories: e.categories, purpose: e.purpose, system: e.system, occurredAt: day(e.day),
        ...(e.type === 'disclosed' ? { details: { recipient: e.recipient, ...(authorityRequests.length && e.request % 2 ? { authorityRequestId: authorityRequests[e.request % authorityRequests.length] } : {}) } } : {}),
        ...(e.type === 'transferred' ? { details: { country: 'US', mechanism: 'none', recipient: e.recipient } } : {}),
        ...(e.type === 'erased' ? { details: { reason: 'other' } } : {}),
      })) });
      if (decoded._tag === 'Left') throw new Error(JSON.stringify(decoded.left));
      const recorded = await writer.record(tenant, decoded.right);
      if (recorded._tag !== 'Right') throw new Error(`events were refused: ${JSON.stringify(recorded.left)}`);
    } else if (a.kind === 'subject-request') {
      const rid = id();
      subjectRequests.push(rid);
      await admin([{ type: 'subject-request-received', eventId: id(), actor, request: { id: rid, type: a.type, subject: a.subject, receivedAt: day(a.day), dueAt: day(a.day + 30) } } as DraftEntry]);
    } else if (a.kind === 'change-request' && subjectRequests.length) {
      const rid = subjectRequests[a.which % subjectRequests.length]!;
      await admin([a.change === 'extend'
        ? { type: 'subject-request-extended', eventId: id(), actor, request: { id: rid, reason: 'complex', dueAt: day(90) } } as DraftEntry
        : { type: 'subject-request-completed', eventId: id(), actor, request: { id: rid, outcome: 'fulfilled' } } as DraftEntry]);
    } else if (a.kind === 'authority-request') {
      const rid = id();
      authorityRequests.push(rid);
      await admin([{ type: 'authority-request-received', eventId: id(), actor, request: { id: rid, authority: 'police-paris', reference: 'R', legalBasis: 'law', receivedAt: day(10), subjects: [a.subject], sealed: a.sealed } } as DraftEntry]);
    } else if (a.kind === 'change-authority' && authorityRequests.length) {
      const rid = authorityRequests[a.which % authorityRequests.length]!;
      const request = a.change === 'decide' ? { id: rid, decision: 'comply', rationale: 'valid' } : { id: rid };
      await admin([{ type: `authority-request-${a.change === 'decide' ? 'decided' : a.change === 'close' ? 'closed' : 'unsealed'}`, eventId: id(), actor, request } as DraftEntry]);
    } else if (a.kind === 'accessed') {
      await admin([{ type: 'accessed', eventId: id(), actor, access: { what: 'report', subjects: [a.subject], format: 'json' } } as DraftEntry]);
    } else if (a.kind === 'redeclare') {
      const p = scenario.purposes.find((x: { id: string }) => x.id === 'marketing');
      const { id: pid, ...body } = p;
      await admin([{ type: 'purpose-declared', eventId: id(), actor, declaration: { id: pid, version: ++version, body: { ...body, retention: { ...body.retention, period: a.period } } } } as DraftEntry]);
    }
  }
}
