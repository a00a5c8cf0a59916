import { decodeAppendBody } from '../../src/ledger/domain/processing-event.js';
import { demoVisitors, demoVisitorStream } from '../../src/demo/story.js';
import { DEMO_PURPOSES, DEMO_RECIPIENTS, DEMO_SYSTEMS } from '../../src/demo/chatbox.js';
import { scenario } from '../support/builders.js';

describe('the demo story', () => {
  const visitors = demoVisitors(3000, 7);
  const events = visitors.flatMap((v) => [...v.events, ...v.flow.flatMap((s) => ('events' in s ? s.events : []))]);

  it('is the reference organisation: the same purposes, systems and recipients', () => {
    expect(DEMO_PURPOSES).toEqual(scenario.purposes);
    expect(DEMO_SYSTEMS).toEqual(scenario.systems);
    expect(DEMO_RECIPIENTS).toEqual(scenario.recipients);
  });

  it('is made a visitor at a time: the first of ten million visitors comes at once, the same as in a short story', () => {
    const story = demoVisitorStream(10_000_000, 7);
    expect(story.next().value).toEqual(visitors[0]);
    expect(story.next().value).toEqual(visitors[1]);
  });

  it('tells the same story for the same seed, another for another seed', () => {
    expect(demoVisitors(3000, 7)).toEqual(visitors);
    expect(demoVisitors(3000, 8)[0]!.events[0]!.eventId).not.toBe(visitors[0]!.events[0]!.eventId);
  });

  it('is made of events the ledger accepts, each id used once, each visitor in time order', () => {
    for (let i = 0; i < events.length; i += 1000) {
      const r = decodeAppendBody({ events: events.slice(i, i + 1000).map((e) => JSON.parse(JSON.stringify(e).replaceAll('$request', '00000000-0000-4000-8000-000000000000'))) });
      expect(r._tag === 'Left' ? r.left.slice(0, 3) : []).toEqual([]);
    }
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    for (const v of visitors) expect(v.events.map((e) => e.occurredAt)).toEqual([...v.events.map((e) => e.occurredAt)].sort());
  });

  it('has every kind of visitor of the reference story, mostly lawful, and one regular with 1,000 events', () => {
    const kinds = new Map<string, number>();
    for (const v of visitors) kinds.set(v.kind, (kinds.get(v.kind) ?? 0) + 1);
    for (const k of ['browser', 'chatter', 'leaky-statistics', 'police', 'backup', 'requester']) expect(kinds.get(k)).toBeGreaterThan(0);
    const lawful = (kinds.get('browser') ?? 0) + (kinds.get('chatter') ?? 0);
    expect(lawful / visitors.length).toBeGreaterThan(0.85);
    expect(visitors.filter((v) => v.kind === 'regular').map((v) => v.events.length)).toEqual([1000]);
    expect(visitors.some((v) => v.flow.some((s) => 'call' in s && s.call.expect === 409))).toBe(true);
  });
});
