import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { openDatabase } from '../../src/common/sqlite/open-database.js';
import { leafHash } from '../../src/ledger/domain/canonical.js';
import { SqliteLogAppender } from '../../src/ledger/sqlite/sqlite-log-appender.js';
import { MemoryTree } from '../../src/integrity/domain/merkle.js';
import { merkleProjection, SqliteMerkleTree } from '../../src/integrity/sqlite/sqlite-merkle.js';
import { tempDir } from '../support/ledger-process.js';

const newEvent = () => { const eventId = randomUUID(); return { eventId, type: 'thing', data: Buffer.from(JSON.stringify({ eventId })) }; };

describe('the embedded Merkle trees at start-up', () => {
  it('completes, from the log, every stream whose tree is behind, and leaves the others as they are', () => {
    const file = join(tempDir(), 'ledger.db');
    // Streams whose names sort around each other, of different lengths (one of a single entry).
    const sizes: Record<string, number> = { 'ledger-a': 5, 'ledger-a-b': 1, 'ledger-b': 9, 'ledger-c': 3 };
    const data = new Map<string, Buffer[]>();
    const appender = () => { const db = openDatabase(file); return new SqliteLogAppender(db, openDatabase(file), [merkleProjection(db)]); };
    const first = appender();
    for (const [stream, n] of Object.entries(sizes)) {
      const events = Array.from({ length: n }, newEvent);
      data.set(stream, events.map((e) => e.data));
      expect(first.append([{ stream, expectedRevision: 'no_stream', events }]).outcomes[0]).toMatchObject({ _tag: 'Appended' });
    }
    first.close();
    // Two trees lost (as in a store from before the trees existed), two kept.
    const db = openDatabase(file);
    for (const stream of ['ledger-a', 'ledger-c']) {
      const no = db.prepare('select id from merkle_streams where stream = ?').pluck().safeIntegers(true).get(stream) as bigint;
      db.prepare('delete from merkle_tree where node >= ? and node < ?').run(no << 40n, (no + 1n) << 40n);
    }
    const reader = new SqliteMerkleTree(db);
    expect(reader.treeSize('ledger-a')).toBe(0);

    appender().close();
    for (const [stream, n] of Object.entries(sizes)) {
      const expected = new MemoryTree();
      for (const d of data.get(stream)!) expected.push(leafHash(d));
      expect({ stream, size: reader.treeSize(stream) }).toEqual({ stream, size: n });
      expect(reader.root(stream, n).toString('hex')).toBe(expected.root().toString('hex'));
    }
    db.close();
  });
});
