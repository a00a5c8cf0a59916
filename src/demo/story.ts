/**
 * The chat-box story of `pdl demo`, generated at any size from a seed: the kinds of visitors of the
 * reference scenario (a session that expires, a chat with consent to marketing and sometimes its
 * withdrawal or an erasure request, statistics sent where they should not go, a police requisition,
 * an off-site backup in the United States, an access request), with a realistic share of violations.
 * Pure and deterministic: the same seed tells the same story with the same event ids, so telling it
 * twice records nothing new.
 */

export type DemoEvent = {
  eventId: string;
  type: string;
  subject: { id: string; identifiers?: Record<string, string> };
  categories: string[];
  purpose: string;
  system: string;
  occurredAt: string;
  actor: { type: string; id: string };
  details?: Record<string, unknown>;
};

/** A call to the API, made as the dpo (or legal for authority requests); `$request` is the id the flow's first call answered. */
export type DemoCall = { method: 'POST'; path: string; body: Record<string, unknown>; as: 'dpo' | 'legal'; expect: number };
export type DemoStep = { events: DemoEvent[] } | { call: DemoCall };

export interface DemoVisitor {
  readonly id: string;
  readonly kind: VisitorKind;
  /** Events recorded first, in order (they never depend on a call). */
  readonly events: DemoEvent[];
  /** Then, in order, calls and the events that follow them (requests and what answers them). */
  readonly flow: DemoStep[];
}

export type VisitorKind = 'browser' | 'chatter' | 'leaky-statistics' | 'police' | 'backup' | 'requester' | 'regular';

/** mulberry32: a small seeded generator, enough for a story. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MINUTE = 60_000;
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const SPAN = 180 * DAY;
const ACTOR = { type: 'service', id: 'chatbox-api' };

/** Ids drawn from the generator, shaped as UUID v4 so the ledger accepts them as event ids. */
function uuidFrom(next: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '89ab'[Math.floor(next() * 4)]!;
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const time = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The kinds of visitors and how many of each, per 1000 visitors. */
const MIX: ReadonlyArray<readonly [VisitorKind, number]> = [
  ['browser', 560], ['chatter', 360], ['leaky-statistics', 25], ['police', 10], ['backup', 30], ['requester', 15],
];

/** The whole story at once (tests; small counts). */
export const demoVisitors = (count: number, seed = 1, regulars = 1, regularEvents = 1000): DemoVisitor[] => [...demoVisitorStream(count, seed, regulars, regularEvents)];

/** The story one visitor at a time, in telling order: any size in little memory. */
export function* demoVisitorStream(count: number, seed = 1, regulars = 1, regularEvents = 1000): Generator<DemoVisitor> {
  const next = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const chance = (p: number) => next() < p;
  const total = MIX.reduce((n, [, w]) => n + w, 0);
  for (let i = 0; i < count + regulars; i++) {
    const regular = i >= count;
    let kind: VisitorKind = 'regular';
    if (!regular) {
      let r = next() * total;
      for (const [k, w] of MIX) { if ((r -= w) < 0) { kind = k; break; } }
    }
    const id = regular ? `visitor:regular-${String(i - count + 1).padStart(4, '0')}` : `visitor:${uuidFrom(next).slice(0, 13).replace('-', '')}`;
    const ip = `${pick(['203.0.113', '198.51.100', '192.0.2'])}.${1 + Math.floor(next() * 254)}`;
    const email = `${id.slice(8)}@example.org`;
    let t = START + Math.floor(next() * (regular ? 30 * DAY : SPAN) / MINUTE) * MINUTE;
    const events: DemoEvent[] = [];
    const flow: DemoStep[] = [];
    const ev = (type: string, categories: string[], purpose: string, system: string, at: number, details?: Record<string, unknown>, identifiers?: Record<string, string>): DemoEvent => ({
      eventId: uuidFrom(next), type, subject: identifiers ? { id, identifiers } : { id }, categories, purpose, system, occurredAt: time(at), actor: ACTOR, ...(details ? { details } : {}),
    });
    const add = (...e: DemoEvent[]) => events.push(...e);
    const session = () => {
      add(ev('collected', ['user.device.ip_address'], 'visitor-session', 'core', t, { source: 'observed' }, { ip }),
        ev('collected', ['user.device.cookie_id'], 'session-cookie', 'core', t, { source: 'observed' }));
    };
    const chat = () => {
      add(ev('collected', ['user.content.private', 'user.contact.email', 'user.name'], 'chat-messaging', 'core', t + MINUTE, { source: 'data-subject' }, { email }),
        ev('stored', ['user.device.ip_address'], 'ip-logging-law', 'core', t + 2 * MINUTE),
        ev('used', ['user.device.ip_address'], 'anti-abuse', 'core', t + 2 * MINUTE, { operation: 'spam score' }));
    };
    switch (kind) {
      case 'browser': {
        session();
        const visits = Math.floor(next() * 3);
        for (let v = 0; v < visits; v++) add(ev('activity', ['user.device.ip_address'], 'visitor-session', 'core', t + (v + 1) * 5 * MINUTE));
        if (chance(0.5)) add(ev('collected', ['user.behavior.browsing_history'], 'statistics', 'core', t + MINUTE, { source: 'observed' }));
        // The session expires after 30 minutes of inactivity; one in ten is erased late.
        add(ev('erased', ['user.device.ip_address'], 'visitor-session', 'core', t + (visits * 5 + (chance(0.1) ? 50 : 25)) * MINUTE, { reason: 'retention' }));
        break;
      }
      case 'chatter': {
        session();
        chat();
        if (chance(0.3)) add(ev('stored', ['user.contact.email'], 'chat-messaging', 'plugins', t + 10 * MINUTE));
        if (chance(0.4)) {
          add(ev('consent-given', ['user.contact.email', 'user.name'], 'marketing', 'core', t + 2 * 60 * MINUTE, { noticeVersion: '2026-01', method: 'checkbox' }),
            ev('disclosed', ['user.contact.email'], 'marketing', 'core', t + 3 * 60 * MINUTE, { recipient: 'email-platform' }));
          if (chance(0.25)) {
            const withdrawn = t + (20 + Math.floor(next() * 40)) * DAY;
            add(ev('consent-withdrawn', ['user.contact.email', 'user.name'], 'marketing', 'core', withdrawn, { method: 'unsubscribe link' }));
            // The newsletter list was not updated: one in ten still receives a campaign.
            if (chance(0.1)) add(ev('disclosed', ['user.contact.email'], 'marketing', 'core', withdrawn + 4 * DAY, { recipient: 'email-platform' }));
          }
        }
        for (let v = 0, n = Math.floor(next() * 3); v < n; v++) add(ev('activity', ['user.device.cookie_id'], 'session-cookie', 'core', t + (v + 1) * 7 * DAY));
        if (chance(0.03)) {
          // An erasure request: core erases at once; the plugins only after a reminder for a third of them.
          const received = t + 30 * DAY;
          const late = chance(0.33);
          flow.push({ call: { method: 'POST', path: '/subject-requests', body: { type: 'erasure', subject: { id }, receivedAt: time(received) }, as: 'dpo', expect: 201 } });
          flow.push({ events: [ev('erased', ['user.content.private', 'user.contact.email', 'user.name', 'user.device.cookie_id'], 'chat-messaging', 'core', received + DAY, { reason: 'subject-request', subjectRequestId: '$request' })] });
          const plugins = ev('erased', ['user.contact.email'], 'chat-messaging', 'plugins', received + 3 * DAY, { reason: 'subject-request', subjectRequestId: '$request' });
          const storedInPlugins = events.some((e) => e.system === 'plugins');
          if (late && storedInPlugins) flow.push({ call: { method: 'POST', path: '/subject-requests/$request/complete', body: { outcome: 'fulfilled' }, as: 'dpo', expect: 409 } });
          if (storedInPlugins) flow.push({ events: [plugins] });
          flow.push({ call: { method: 'POST', path: '/subject-requests/$request/complete', body: { outcome: 'fulfilled' }, as: 'dpo', expect: 200 } });
        }
        break;
      }
      case 'leaky-statistics': {
        session();
        chat();
        if (chance(0.4)) add(ev('erased', ['user.device.ip_address'], 'chat-messaging', 'core', t + 14 * DAY, { reason: 'other' }));
        add(ev('disclosed', ['user.device.ip_address'], 'statistics', 'core', t + 19 * DAY, { recipient: 'ad-network' }),
          ev('transferred', ['user.device.ip_address'], 'statistics', 'core', t + 20 * DAY, { country: 'US', mechanism: 'none', recipient: 'ad-network' }));
        if (chance(0.2)) add(ev('disclosed', ['user.device.ip_address'], 'ip-logging-law', 'core', t + 28 * DAY, { recipient: 'police-paris' }));
        break;
      }
      case 'police': {
        session();
        chat();
        const received = t + 28 * DAY;
        flow.push({ call: { method: 'POST', path: '/authority-requests', body: { authority: 'police-paris', reference: `PV-${time(received).slice(0, 10)}-${id.slice(8, 12)}`, legalBasis: 'Code de procedure penale, art. 60-1', receivedAt: time(received), subjects: [{ id }], sealed: chance(0.5) }, as: 'legal', expect: 201 } });
        flow.push({ call: { method: 'POST', path: '/authority-requests/$request/decide', body: { decision: 'comply', rationale: 'Valid requisition under criminal procedure' }, as: 'legal', expect: 200 } });
        flow.push({ events: [ev('disclosed', ['user.device.ip_address'], 'ip-logging-law', 'core', received + 2 * DAY, { recipient: 'police-paris', authorityRequestId: '$request' })] });
        break;
      }
      case 'backup': {
        add(ev('collected', ['user.device.ip_address', 'user.behavior.browsing_history'], 'statistics', 'core', t, { source: 'observed' }, { ip }),
          ev('stored', ['user.behavior.browsing_history'], 'statistics', 'backup-us', t + DAY));
        if (chance(0.2)) add(ev('used', ['user.behavior.browsing_history'], 'ai-training', 'core', t + 2 * DAY, { operation: 'model training' }));
        if (chance(0.1)) add(ev('stored', ['user.behavior.browsing_history'], 'statistics', 'legacy-crm', t + 2 * DAY));
        break;
      }
      case 'requester': {
        session();
        chat();
        const received = t + 10 * DAY;
        flow.push({ call: { method: 'POST', path: '/subject-requests', body: { type: 'access', subject: { id }, receivedAt: time(received) }, as: 'dpo', expect: 201 } });
        if (chance(0.6)) flow.push({ call: { method: 'POST', path: '/subject-requests/$request/complete', body: { outcome: 'fulfilled' }, as: 'dpo', expect: 200 } });
        break;
      }
      case 'regular': {
        session();
        chat();
        add(ev('consent-given', ['user.contact.email', 'user.name'], 'marketing', 'core', t + 3 * MINUTE, { noticeVersion: '2026-01', method: 'checkbox' }));
        while (events.length < regularEvents) {
          t += Math.floor(next() * 4 * 60) * MINUTE;
          add(chance(0.5) ? ev('activity', ['user.device.cookie_id'], 'session-cookie', 'core', t)
            : chance(0.5) ? ev('used', ['user.device.ip_address'], 'anti-abuse', 'core', t, { operation: 'spam score' })
              : ev('disclosed', ['user.contact.email'], 'marketing', 'core', t, { recipient: 'email-platform' }));
        }
        break;
      }
    }
    // What a visitor did, in the order it happened (a stable sort keeps same-moment events as told).
    events.sort((x, y) => (x.occurredAt < y.occurredAt ? -1 : x.occurredAt > y.occurredAt ? 1 : 0));
    yield { id, kind, events, flow };
  }
}
