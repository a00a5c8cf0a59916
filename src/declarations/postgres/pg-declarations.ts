import type pg from 'pg';
import { entryOf } from '../../ledger/entry-of.js';
import type { PgProjection } from '../../ledger/postgres/pg-projection.js';
import type { DeclarationsReadModel } from '../declarations-read-model.port.js';
import { kindOfEntry, type Declared, type DeclarationKind } from '../domain/declaration.js';

const FAR_FUTURE = '9999-12-31T23:59:59.999Z';

/** Every version of every declaration, so that any past moment can be answered (`asOf`). */
export function pgDeclarationsProjection(): PgProjection {
  return {
    name: 'declarations',
    tables: ['declarations'],
    async apply(tx, events) {
      for (const { recorded, context } of events) {
        const kind = kindOfEntry(recorded.type);
        if (!kind) continue;
        const e = entryOf(recorded, context);
        if (e.type === 'purpose-declared' || e.type === 'system-declared' || e.type === 'recipient-declared') {
          await tx.query('insert into declarations (tenant, kind, id, version, position, recorded_at, body) values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing',
            [e.tenant, kind, e.declaration.id, e.declaration.version, e.position, e.recordedAt, JSON.stringify(e.declaration.body)]);
        }
      }
    },
  };
}

interface Row { id: string; version: number; position: string; recorded_at: string; body: unknown }
const toDeclared = (r: Row): Declared => ({ id: r.id, version: r.version, position: Number(r.position), recordedAt: r.recorded_at, body: r.body as Declared['body'] });

/** The latest version of each declaration recorded at or before a moment. */
export async function declaredAsOf(db: pg.ClientBase | pg.Pool, tenant: string, kind: DeclarationKind | null, asOf = FAR_FUTURE): Promise<Array<Declared & { kind: DeclarationKind }>> {
  const { rows } = await db.query<Row & { kind: DeclarationKind }>(`select distinct on (kind, id) * from declarations where tenant = $1 and ($2::text is null or kind = $2) and recorded_at <= $3
    order by kind, id, version desc`, [tenant, kind, asOf]);
  // Ordered here, by code points as on SQLite, whatever the database's collation.
  return rows.map((r) => ({ ...toDeclared(r), kind: r.kind })).sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export class PgDeclarationsReadModel implements DeclarationsReadModel {
  constructor(private readonly pool: pg.Pool) {}

  async current(tenant: string, kind: DeclarationKind, id: string, asOf?: string): Promise<Declared | null> {
    const r = (await this.pool.query<Row>('select * from declarations where tenant = $1 and kind = $2 and id = $3 and recorded_at <= $4 order by version desc limit 1', [tenant, kind, id, asOf ?? FAR_FUTURE])).rows[0];
    return r ? toDeclared(r) : null;
  }

  async list(tenant: string, kind: DeclarationKind, asOf?: string): Promise<Declared[]> {
    return (await declaredAsOf(this.pool, tenant, kind, asOf)).map(({ kind: _k, ...d }) => d);
  }
}
