import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { IdentifierVault } from '../../src/keys/application/identifier-vault.js';
import { LedgerWriter } from '../../src/ledger/application/ledger-writer.js';
import type { DraftEntry } from '../../src/ledger/domain/log-entry.js';
import type { EventStore } from '../../src/ledger/event-store.port.js';
import { openEmbeddedStorage } from '../../src/storage/embedded-storage.js';
import { tempDir } from '../support/ledger-process.js';

const master = { key: randomBytes(32), id: 'test' };
const actor = { type: 'token', id: randomUUID(), role: 'dpo' } as const;
const accessed = (subject: string) => ({ type: 'accessed', eventId: randomUUID(), actor, access: { what: 'report', subjects: [subject] } }) as DraftEntry;

describe('entries that decide nothing (records of reads)', () => {
  it('share commits when they arrive together, land once each, in one gap-free chained log', async () => {
    const s = openEmbeddedStorage(tempDir(), master, { writes: 'in-thread' });
    let appends = 0;
    const counting: EventStore = new Proxy(s.eventStore, { get: (target, p, r) => (p === 'append' ? (...a: Parameters<EventStore['append']>) => { appends++; return target.append(...a); } : Reflect.get(target, p, r)) });
    const writer = new LedgerWriter(counting, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
    const tenant = await writer.append('acme', async () => ({ _tag: 'Right', right: { drafts: [{ type: 'tenant-declared', eventId: randomUUID(), actor: { type: 'admin', id: 'test' }, settings: { name: 'Acme', residency: ['EEA'] } }], answer: () => null } }) as never);
    expect(tenant._tag).toBe('Right');
    appends = 0;
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => writer.appendFacts('acme', [accessed(`visitor:${i}`)])));
    expect(results.every((r) => r._tag === 'Right')).toBe(true);
    expect(appends).toBeLessThan(20);
    const log = await s.eventStore.readStream('ledger-acme', 0, 1000);
    expect(log.map((e) => e.revision)).toEqual(Array.from({ length: 201 }, (_, i) => i));
    const entries = log.map((e) => JSON.parse(e.data.toString('utf8')));
    const leaf = (data: Buffer) => createHash('sha256').update(Buffer.from([0])).update(data).digest('hex');
    expect(entries.slice(1).every((e, i) => e.prev === leaf(log[i]!.data) && e.position === i + 1)).toBe(true);
    expect(new Set(entries.slice(1).map((e) => e.access.subjects[0])).size).toBe(200);
    await writer.drain();
    await s.close();
  });
});
