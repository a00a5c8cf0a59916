import { randomBytes, randomUUID } from 'node:crypto';
import { IdentifierVault } from '../../src/keys/application/identifier-vault.js';
import { LedgerWriter } from '../../src/ledger/application/ledger-writer.js';
import { decodeAppendBody } from '../../src/ledger/domain/processing-event.js';
import type { DraftEntry } from '../../src/ledger/domain/log-entry.js';
import { openEmbeddedStorage } from '../../src/storage/embedded-storage.js';
import { openPostgresStorage } from '../../src/storage/postgres-storage.js';
import type { LedgerStorage } from '../../src/storage/storage.js';
import { tempDir } from '../support/ledger-process.js';
import { freshDatabase } from '../support/postgres.js';

/**
 * A rebuild folds many entries at once; each event must still be judged against the declarations and
 * the residency in force just before it, not against what the same batch declares later.
 */
const master = { key: randomBytes(32), id: 'test' };
const actor = { type: 'admin', id: 'test' } as const;
const purpose = (categories: string[]) => ({ title: 'Chat', legalBasis: 'legitimate-interests', categories, retention: { period: 'P30D', from: 'collection' } });

async function play(s: LedgerStorage) {
  const writer = new LedgerWriter(s.eventStore, s.keyStore, new IdentifierVault(s.keyStore), { now: () => new Date() });
  const admin = (drafts: DraftEntry[]) => writer.append('acme', async () => ({ _tag: 'Right', right: { drafts, answer: () => null } }) as never);
  const record = async (event: Record<string, unknown>) => {
    const decoded = decodeAppendBody({ events: [{ eventId: randomUUID(), subject: { id: 'visitor-1' }, system: 'core', occurredAt: '2026-03-01T10:00:00Z', ...event }] });
    if (decoded._tag === 'Left') throw new Error('bad test event');
    const r = await writer.record('acme', decoded.right);
    if (r._tag === 'Left') throw new Error(r.left._tag);
  };
  const draft = (d: Omit<DraftEntry, 'eventId' | 'actor'>) => ({ ...d, eventId: randomUUID(), actor }) as DraftEntry;
  await admin([
    draft({ type: 'tenant-declared', settings: { name: 'Acme', residency: ['EEA'] } } as never),
    draft({ type: 'purpose-declared', declaration: { id: 'chat', version: 1, body: purpose(['user.contact.email']) } } as never),
    draft({ type: 'system-declared', declaration: { id: 'core', version: 1, body: { name: 'Core', country: 'US' } } } as never),
  ]);
  // Before the purpose declares the IP address, and before the tenant accepts the US: two findings.
  await record({ type: 'collected', categories: ['user.device.ip_address'], purpose: 'chat', details: { source: 'observed' } });
  await record({ type: 'stored', categories: ['user.contact.email'], purpose: 'chat' });
  await admin([
    draft({ type: 'purpose-declared', declaration: { id: 'chat', version: 2, body: purpose(['user.contact.email', 'user.device.ip_address']) } } as never),
    draft({ type: 'tenant-declared', settings: { name: 'Acme', residency: ['EEA', 'US'] } } as never),
  ]);
  // After both: none.
  await record({ type: 'collected', categories: ['user.device.ip_address'], purpose: 'chat', details: { source: 'observed' } });
  await record({ type: 'stored', categories: ['user.contact.email'], purpose: 'chat' });
  await writer.drain();
}

const codes = async (s: LedgerStorage) => (await s.findings.page('acme', {}, 0, 100)).map((f) => `${f.position} ${f.code}`);

describe('a rebuild judges each event against what was declared before it', () => {
  it('on the embedded store', async () => {
    const dir = tempDir();
    const s = openEmbeddedStorage(dir, master, { writes: 'in-thread' });
    await play(s);
    const incremental = await codes(s);
    await s.close();
    expect(incremental.map((c) => c.split(' ')[1])).toEqual(['category-not-declared', 'location-outside-residency']);
    const again = openEmbeddedStorage(dir, master, { writes: 'in-thread', rebuild: {} });
    expect(await codes(again)).toEqual(incremental);
    await again.close();
  });

  it('on PostgreSQL', async () => {
    const db = await freshDatabase();
    try {
      const s = await openPostgresStorage(db.url, master, { writes: 'in-thread' });
      await play(s);
      const incremental = await codes(s);
      await s.close();
      expect(incremental.map((c) => c.split(' ')[1])).toEqual(['category-not-declared', 'location-outside-residency']);
      const again = await openPostgresStorage(db.url, master, { writes: 'in-thread', rebuild: {} });
      expect(await codes(again)).toEqual(incremental);
      await again.close();
    } finally {
      await db.drop();
    }
  });
});
