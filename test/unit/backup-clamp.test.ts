import Database from 'better-sqlite3';
import { join } from 'node:path';
import { clampBlindIndex } from '../../src/cli/backup.js';
import { ensureKeySchema } from '../../src/keys/sqlite/sqlite-key-writer.js';
import { tempDir } from '../support/ledger-process.js';

describe("a backup's copy of keys.db", () => {
  it("indexes again from the log's copy whatever its blind index covers beyond it", () => {
    const file = join(tempDir(), 'keys.db');
    const db = new Database(file);
    ensureKeySchema(db);
    const set = db.prepare('insert into blind_index_checkpoint (tenant, position) values (?, ?)');
    set.run('ahead', 120); // indexed past the log's copy, which ends at position 99
    set.run('behind', 40); // still to index from the log: left as it is
    set.run('newer', 7); // a tenant the log's copy does not hold yet
    db.close();
    clampBlindIndex(file, [{ tenant: 'ahead', treeSize: 100 }, { tenant: 'behind', treeSize: 100 }]);
    const after = new Database(file, { readonly: true });
    expect(Object.fromEntries((after.prepare('select tenant, position from blind_index_checkpoint').all() as Array<{ tenant: string; position: number }>).map((r) => [r.tenant, r.position])))
      .toEqual({ ahead: 99, behind: 40, newer: -1 });
    after.close();
  });
});
