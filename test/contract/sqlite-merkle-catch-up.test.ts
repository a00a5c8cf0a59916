import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { openDatabase } from '../../src/common/sqlite/open-database.js';
import { leafHash } from '../../src/ledger/domain/canonical.js';
import { SqliteLogAppender } from '../../src/ledger/sqlite/sqlite-log-appender.js';
import { MemoryTree } from '../../src/integrity/domain/merkle.js';
import { MerkleNodes, merkleProjection, SqliteMerkleTree } from '../../src/integrity/sqlite/sqlite-merkle.js';
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

describe('the leaves of an embedded Merkle tree', () => {
  it('are read by leaf index over a range, among the interior nodes, with a missing leaf left out', () => {
    const file = join(tempDir(), 'ledger.db');
    const db = openDatabase(file);
    const appender = new SqliteLogAppender(db, openDatabase(file), [merkleProjection(db)]);
    const events = Array.from({ length: 37 }, newEvent);
    expect(appender.append([{ stream: 'ledger-a', expectedRevision: 'no_stream', events }]).outcomes[0]).toMatchObject({ _tag: 'Appended' });
    const nodes = new MerkleNodes(db);
    const leaves = nodes.leafMap('ledger-a', 5, 30);
    expect([...leaves.keys()]).toEqual(Array.from({ length: 30 }, (_, i) => 5 + i));
    for (const [i, h] of leaves) expect(h.toString('hex')).toBe(leafHash(events[i]!.data).toString('hex'));
    // Leaf 12 lost: the others keep their index.
    const no = db.prepare('select id from merkle_streams where stream = ?').pluck().safeIntegers(true).get('ledger-a') as bigint;
    db.prepare('delete from merkle_tree where node = ?').run(MerkleNodes.key(no, 0, 12));
    const holed = nodes.leafMap('ledger-a', 10, 5);
    expect([...holed.keys()]).toEqual([10, 11, 13, 14]);
    expect(holed.get(13)!.equals(leafHash(events[13]!.data))).toBe(true);
    expect(nodes.leafMap('ledger-none', 0, 5).size).toBe(0);
    appender.close();
  });
});
