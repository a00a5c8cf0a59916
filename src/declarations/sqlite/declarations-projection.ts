import type { SqliteProjection } from '../../ledger/sqlite/sqlite-log-appender.js';
import { entryOf } from '../../ledger/entry-of.js';
import { canonicalJson } from '../../ledger/domain/canonical.js';
import type { Db } from '../../common/sqlite/open-database.js';
import { kindOfEntry } from '../domain/declaration.js';

const SCHEMA = `
create table if not exists declarations (
  tenant text not null, kind text not null, id text not null, version integer not null,
  position integer not null, recorded_at text not null, body text not null,
  primary key (tenant, kind, id, version));
`;

/** Every version of every declaration, so that any past moment can be answered (`asOf`). */
export function declarationsProjection(db: Db): SqliteProjection {
  db.exec(SCHEMA);
  const insert = db.prepare('insert or ignore into declarations (tenant, kind, id, version, position, recorded_at, body) values (?, ?, ?, ?, ?, ?, ?)');
  return {
    name: 'declarations',
    rebuild: { tables: ['declarations'], schema: SCHEMA },
    apply(_tx, events) {
      for (const { recorded, context } of events) {
        const kind = kindOfEntry(recorded.type);
        if (!kind) continue;
        const e = entryOf(recorded, context);
        if (e.type === 'purpose-declared' || e.type === 'system-declared' || e.type === 'recipient-declared') {
          insert.run(e.tenant, kind, e.declaration.id, e.declaration.version, e.position, e.recordedAt, canonicalJson(e.declaration.body));
        }
      }
    },
  };
}
