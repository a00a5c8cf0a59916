import { residencyOf } from '../domain/tenant.js';
import type { SqliteProjection } from '../../ledger/sqlite/sqlite-log-appender.js';
import { entryOf } from '../../ledger/entry-of.js';
import type { Db } from '../../common/sqlite/open-database.js';

const SCHEMA = `
create table if not exists tenants (id text primary key, name text not null, residency text not null, position integer not null);
create table if not exists tokens (
  id text primary key, tenant text not null, hash text not null unique, role text not null, systems text,
  label text, issued_at text not null, revoked_at text);
`;

const TYPES = new Set(['tenant-declared', 'token-issued', 'token-revoked']);

/** Tenants and their tokens (hashes only), folded from `tenant-declared`, `token-issued`, `token-revoked`. */
export function tenancyProjection(db: Db): SqliteProjection {
  db.exec(SCHEMA);
  const upsertTenant = db.prepare('insert into tenants (id, name, residency, position) values (?, ?, ?, ?) on conflict (id) do update set name = excluded.name, residency = excluded.residency, position = excluded.position');
  const issue = db.prepare('insert or ignore into tokens (id, tenant, hash, role, systems, label, issued_at) values (?, ?, ?, ?, ?, ?, ?)');
  const revoke = db.prepare('update tokens set revoked_at = ? where id = ? and tenant = ? and revoked_at is null');
  return {
    name: 'tenancy',
    rebuild: { tables: ['tenants', 'tokens'], schema: SCHEMA },
    apply(_tx, events) {
      for (const { recorded, context } of events) {
        if (!TYPES.has(recorded.type)) continue;
        const e = entryOf(recorded, context);
        if (e.type === 'tenant-declared') upsertTenant.run(e.tenant, e.settings.name, JSON.stringify(residencyOf(e.settings)), e.position);
        else if (e.type === 'token-issued') issue.run(e.token.id, e.tenant, e.token.hash, e.token.role, e.token.systems ? JSON.stringify(e.token.systems) : null, e.token.label ?? null, e.recordedAt);
        else if (e.type === 'token-revoked') revoke.run(e.recordedAt, e.token.id, e.tenant);
      }
    },
  };
}
