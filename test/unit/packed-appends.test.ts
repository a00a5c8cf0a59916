import { canonicalBytes, leafHash } from '../../src/ledger/domain/canonical.js';
import type { StreamAppend } from '../../src/ledger/event-store.port.js';
import { packAppends, unpackAppends } from '../../src/storage/worker-calls.js';

const entry = (i: number) => ({ eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, position: i, text: 'é'.repeat(i) });
const event = (i: number, hashed: boolean) => {
  const data = canonicalBytes(entry(i));
  return { eventId: entry(i).eventId, type: 'collected', data, ...(hashed ? { leafHash: leafHash(data) } : {}), context: entry(i) };
};

describe('appends sent to a storage worker', () => {
  it('arrive as they were sent, through a structured clone, each entry read back from its bytes', () => {
    const appends: StreamAppend[] = [
      { stream: 'ledger-acme', expectedRevision: 4, expectedHead: 'ab'.repeat(32), relink: true, events: [event(5, true), event(6, false), event(7, true)] },
      { stream: 'ledger-globex', expectedRevision: 'no_stream', events: [] },
      { stream: 'ledger-initech', expectedRevision: 0, events: [event(1, false)] },
    ];
    const packed = structuredClone(packAppends(appends));
    expect(packed.bytes.byteLength).toBe(appends.flatMap((a) => a.events).reduce((n, e) => n + e.data.byteLength + (e.leafHash ? 32 : 0), 0));
    const back = unpackAppends(packed);
    expect(back.map(({ events: _, ...a }) => a)).toEqual(appends.map(({ events: _, ...a }) => a));
    back.forEach((a, i) => a.events.forEach((e, k) => {
      const sent = appends[i]!.events[k]!;
      expect([e.eventId, e.type, Buffer.from(e.data).toString('hex'), e.leafHash && Buffer.from(e.leafHash).toString('hex'), e.context])
        .toEqual([sent.eventId, sent.type, Buffer.from(sent.data).toString('hex'), sent.leafHash && Buffer.from(sent.leafHash).toString('hex'), sent.context]);
      expect('leafHash' in e).toBe('leafHash' in sent);
    }));
  });
});
