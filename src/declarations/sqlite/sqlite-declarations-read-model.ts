import type { Db } from '../../common/sqlite/open-database.js';
import type { DeclarationsReadModel } from '../declarations-read-model.port.js';
import type { Declared, DeclarationKind } from '../domain/declaration.js';
import type { Synchronous } from '../../common/kernel/promised.js';

interface Row { id: string; version: number; position: number; recorded_at: string; body: string }
const toDeclared = (r: Row): Declared => ({ id: r.id, version: r.version, position: r.position, recordedAt: r.recorded_at, body: JSON.parse(r.body) });
const FAR_FUTURE = '9999-12-31T23:59:59.999Z';

export class SqliteDeclarationsReadModel implements Synchronous<DeclarationsReadModel> {
  private readonly stmt;
  constructor(db: Db) {
    this.stmt = {
      one: db.prepare(`select * from declarations where tenant = ? and kind = ? and id = ? and recorded_at <= ? order by version desc limit 1`),
      list: db.prepare(`select d.* from declarations d where d.tenant = ? and d.kind = ? and d.version = (
        select max(version) from declarations x where x.tenant = d.tenant and x.kind = d.kind and x.id = d.id and x.recorded_at <= ?) order by d.id`),
    };
  }
  current(tenant: string, kind: DeclarationKind, id: string, asOf?: string): Declared | null {
    const r = this.stmt.one.get(tenant, kind, id, asOf ?? FAR_FUTURE) as Row | undefined;
    return r ? toDeclared(r) : null;
  }
  list(tenant: string, kind: DeclarationKind, asOf?: string): Declared[] {
    return (this.stmt.list.all(tenant, kind, asOf ?? FAR_FUTURE) as Row[]).map(toDeclared);
  }
}
