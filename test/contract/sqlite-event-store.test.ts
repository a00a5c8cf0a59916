import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { canonicalBytes, leafHash } from '../../src/ledger/domain/canonical.js';
import type { NewEvent } from '../../src/ledger/event-store.port.js';
import { SqliteEventStore } from '../../src/ledger/sqlite/sqlite-event-store.js';
import { openDatabase } from '../../src/common/sqlite/open-database.js';
import { tempDir } from '../support/ledger-process.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('embedded (SQLite)', async () => SqliteEventStore.inThread(openDatabase(join(tempDir(), 'ledger.db'))));

describe('embedded (SQLite): the head an append expects', () => {
  const entry = (body: object): NewEvent => {
    const data = canonicalBytes({ id: randomUUID(), ...body });
    return { eventId: randomUUID(), type: 'thing-happened', data, leafHash: leafHash(data) };
  };
  const hex = (e: NewEvent) => Buffer.from(e.leafHash!).toString('hex');

  it('appends when the entry at the expected revision is the one named, and refuses, writing nothing, when another stands there', async () => {
    const store = SqliteEventStore.inThread(openDatabase(join(tempDir(), 'ledger.db')));
    const [a, b] = [entry({ n: 1 }), entry({ n: 2 })];
    await store.append([{ stream: 'log', expectedRevision: 'no_stream', events: [a, b] }]);
    // The head as this store left it (kept in memory since its append).
    const [ok] = await store.append([{ stream: 'log', expectedRevision: 1, expectedHead: hex(b), events: [entry({ n: 3 })] }]);
    expect(ok).toMatchObject({ _tag: 'Appended', firstRevision: 2 });
    const [stale] = await store.append([{ stream: 'log', expectedRevision: 2, expectedHead: hex(b), events: [entry({ n: 4 })] }]);
    expect(stale).toEqual({ _tag: 'WrongExpectedRevision', stream: 'log', expected: 2, actual: 2 });
    expect((await store.readStream('log', 0, 10)).length).toBe(3);
    await store.close();
  });

  it('reads the head from the log when it did not append it itself', async () => {
    const dir = tempDir();
    const first = SqliteEventStore.inThread(openDatabase(join(dir, 'ledger.db')));
    const a = entry({ n: 1 });
    await first.append([{ stream: 'log', expectedRevision: 'no_stream', events: [a] }]);
    await first.close();
    const store = SqliteEventStore.inThread(openDatabase(join(dir, 'ledger.db')));
    const [wrong] = await store.append([{ stream: 'log', expectedRevision: 0, expectedHead: '00'.repeat(32), events: [entry({ n: 2 })] }]);
    expect(wrong._tag).toBe('WrongExpectedRevision');
    const [ok] = await store.append([{ stream: 'log', expectedRevision: 0, expectedHead: hex(a), events: [entry({ n: 2 })] }]);
    expect(ok).toMatchObject({ _tag: 'Appended', firstRevision: 1 });
    await store.close();
  });
});
