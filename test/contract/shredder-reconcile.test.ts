import { randomBytes, randomUUID } from 'node:crypto';
import { randomIds } from '../../src/common/kernel/ids.js';
import { systemClock } from '../../src/common/kernel/time.js';
import { IdentifierVault } from '../../src/keys/application/identifier-vault.js';
import { LogMarks } from '../../src/keys/application/log-marks.js';
import { Shredder } from '../../src/keys/application/shredder.js';
import { LedgerWriter } from '../../src/ledger/application/ledger-writer.js';
import type { DraftEntry } from '../../src/ledger/domain/log-entry.js';
import { decodeAppendBody } from '../../src/ledger/domain/processing-event.js';
import { openEmbeddedStorage } from '../../src/storage/embedded-storage.js';
import { anEvent, declareTenant } from '../support/builders.js';
import { tempDir } from '../support/ledger-process.js';

const master = { key: randomBytes(32), id: 'test' };
const IP = 'user.device.ip_address';

/**
 * A stop between a `key-destroyed` fact and the key's destruction is finished at the next start: only the
 * facts recorded since the last reconciliation are looked at, and a key made after its category's
 * destruction was recorded (the subject came back) is a new one, kept.
 */
describe('reconciling key destructions at start-up', () => {
  it('destroys the keys a stop left behind, keeps the new keys of subjects who came back, and looks only past its mark', async () => {
    const s = openEmbeddedStorage(tempDir(), master, { writes: 'in-thread' });
    const vault = new IdentifierVault(s.keyStore);
    const writer = new LedgerWriter(s.eventStore, s.keyStore, vault, systemClock);
    const shredder = new Shredder(s.keyStore, s.retention, s.requests, s.auditTrail, s.flushDeferred, systemClock, randomIds, vault, writer);
    const marks = new LogMarks(s.keyStore, s.merkle);
    const record = async (subject: string) => {
      const d = decodeAppendBody({ events: [anEvent({ subject: { id: subject, identifiers: { ip: '203.0.113.9' } } })] });
      if (d._tag === 'Left') throw new Error('bad test event');
      expect((await writer.record('acme', d.right))._tag).toBe('Right');
    };
    const destroyedFact = (subject: string) => ({ type: 'key-destroyed', eventId: randomUUID(), actor: { type: 'ledger', id: 'retention' }, shred: { subject, category: IP, reason: 'erased-everywhere' } }) as DraftEntry;
    const live = async (subject: string) => (await s.keyStore.liveKeys('acme', subject)).map((k) => k.category);
    const head = async () => (await s.merkle.treeSize('ledger-acme')) - 1;
    try {
      await declareTenant(writer);
      for (const subject of ['visitor:stopped', 'visitor:back', 'visitor:kept']) await record(subject);
      // Stopped between the two steps: the fact is in the log, the key is still there.
      expect((await writer.appendFacts('acme', [destroyedFact('visitor:stopped')]))._tag).toBe('Right');
      // Both steps done; the subject comes back later, under a new key.
      expect((await writer.appendFacts('acme', [destroyedFact('visitor:back')]))._tag).toBe('Right');
      await s.keyStore.destroy('acme', [{ subject: 'visitor:back', categories: [IP] }], []);
      await new Promise((r) => setTimeout(r, 5));
      await record('visitor:back');
      expect(await live('visitor:stopped')).toEqual([IP]);
      expect(await live('visitor:back')).toEqual([IP]);

      expect(await shredder.reconcile(['acme'], marks)).toBe(1);
      expect(await live('visitor:stopped')).toEqual([]);
      expect(await live('visitor:back')).toEqual([IP]);
      expect(await live('visitor:kept')).toEqual([IP]);
      expect(await marks.through('acme', 'key-reconcile')).toBe(await head());

      // Past the mark only: a fact before it is not looked at again (here, one whose key is still there).
      const [before] = await s.requests.destroyedKeysAfter('acme', -1);
      expect(before!.position).toBeLessThan(await marks.through('acme', 'key-reconcile'));
      expect(await s.requests.destroyedKeysAfter('acme', await marks.through('acme', 'key-reconcile'))).toEqual([]);
      expect((await writer.appendFacts('acme', [destroyedFact('visitor:kept')]))._tag).toBe('Right');
      expect(await shredder.reconcile(['acme'], marks)).toBe(1);
      expect(await live('visitor:kept')).toEqual([]);
      expect(await live('visitor:back')).toEqual([IP]);

      // A mark that does not match the log (another backup): everything is looked at again, nothing more to do.
      await s.keyStore.setLogMark('acme', 'key-reconcile', { position: await head(), hash: '00'.repeat(32) });
      expect(await marks.through('acme', 'key-reconcile')).toBe(-1);
      expect(await shredder.reconcile(['acme'], marks)).toBe(0);
      expect(await live('visitor:back')).toEqual([IP]);
      expect(await marks.through('acme', 'key-reconcile')).toBe(await head());
    } finally {
      await writer.drain();
      await s.close();
    }
  });
});
