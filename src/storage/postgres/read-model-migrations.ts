import type { Migration } from '../../common/postgres/migrations.js';

/**
 * The trail's facet index filled from `audit_events` (migrations 5 and 7; never change it): per tenant,
 * facet and block of 1,024 positions (FACET_BLOCK), its positions' gaps as 0s before each 1, padded to
 * 1,024 bits; and each facet's count.
 */
const FACET_FILL = `
insert into audit_facets (tenant, facet, block, bits)
  select tenant, facet, block, rpad(string_agg(repeat('0', (position - coalesce(before, block - 1) - 1)::integer) || '1', '' order by position), 1024, '0')::varbit
  from (select tenant, facet, block, position, lag(position) over (partition by tenant, facet, block order by position) as before
    from (select distinct tenant, facet, position - position % 1024 as block, position from (
      select tenant, position, 't:' || type as facet from audit_events
      union all select tenant, position, 'p:' || purpose from audit_events
      union all select tenant, position, 's:' || system from audit_events
      union all select tenant, position, 'r:' || recipient from audit_events where recipient is not null
      union all select a.tenant, a.position, 'c:' || c from audit_events a cross join unnest(string_to_array(a.categories, chr(1))) as c where c <> '') f) d) g
  group by tenant, facet, block;
insert into audit_facet_counts (tenant, facet, n) select tenant, facet, sum(bit_count(bits)) from audit_facets group by tenant, facet;`;

/**
 * The read models on PostgreSQL, in the event store's schema (the audit trail reads entries from its
 * `events`). Versioned migrations: only ever append. Instants are fixed-width UTC text, as on SQLite.
 */
export const READ_MODEL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
create table merkle_nodes (stream text not null, level integer not null, idx bigint not null, hash bytea not null, primary key (stream, level, idx));
create table tenants (id text primary key, name text not null, residency jsonb not null, position bigint not null);
create table tokens (id text primary key, tenant text not null, hash text not null unique, role text not null, systems jsonb, label text, issued_at text not null, revoked_at text);
create index tokens_tenant on tokens (tenant, issued_at, id);
create table declarations (tenant text not null, kind text not null, id text not null, version integer not null, position bigint not null, recorded_at text not null, body jsonb not null,
  primary key (tenant, kind, id, version));
create table checkpoints (stream text not null, tree_size bigint not null, root bytea not null, timestamp text not null, origin text not null,
  key_name text not null, key_id bytea not null, signature bytea not null, note text not null, primary key (stream, tree_size));
create table audit_events (
  tenant text not null, position bigint not null, stream text not null, type text not null, subject text not null, purpose text not null, system text not null,
  recipient text, categories text[] not null, occurred_at text not null, recorded_at text not null, hash bytea not null, primary key (tenant, position));
create index audit_events_subject on audit_events (tenant, subject, position);
create index audit_events_recipient on audit_events (tenant, recipient, position) where recipient is not null;
create index audit_events_type on audit_events (tenant, type, position);
create table subject_requests (
  tenant text not null, id text not null, type text not null, subject text not null, received_at text not null, due_at text not null,
  extended_reason text, extended_position bigint, completed_at text, completed_position bigint, outcome text, reason text,
  position bigint not null, event_id text not null, primary key (tenant, id));
create index subject_requests_position on subject_requests (tenant, position);
create index subject_requests_subject on subject_requests (tenant, subject);
create table authority_requests (
  tenant text not null, id text not null, authority text not null, reference text not null, legal_basis text not null,
  received_at text not null, subjects jsonb not null, sealed boolean not null, decision text, rationale text, decided_at text,
  decided_position bigint, closed_at text, closed_position bigint, unsealed_position bigint, position bigint not null, primary key (tenant, id));
create index authority_requests_position on authority_requests (tenant, position);
create table authority_request_subjects (tenant text not null, subject text not null, id text not null, primary key (tenant, subject, id));
create table authority_disclosures (tenant text not null, request text not null, position bigint not null, primary key (tenant, request, position));
create table forgotten_subjects (tenant text not null, subject text not null, position bigint not null, reason text, primary key (tenant, subject));
create table destroyed_keys (
  tenant text not null, subject text not null, category text not null, position bigint not null, recorded_at text not null,
  reason text not null, request text, event_id text not null, primary key (tenant, subject, category, position));
create table access_log (
  tenant text not null, position bigint not null, event_id text not null, recorded_at text not null, actor jsonb not null,
  what text not null, subjects jsonb not null, detail jsonb not null, primary key (tenant, position));
create table access_log_subjects (tenant text not null, subject text not null, position bigint not null, primary key (tenant, subject, position));
create table ropa_observed (
  tenant text not null, purpose text not null, category text not null, system text not null, type text not null,
  recipient text not null, country text not null, mechanism text not null, first_position bigint not null,
  primary key (tenant, purpose, category, system, type, recipient, country, mechanism));
create table ropa_subjects (tenant text not null, purpose text not null, subject text not null, first_position bigint not null, primary key (tenant, purpose, subject));
create table ropa_subject_counts (tenant text not null, purpose text not null, kind text not null, subjects bigint not null, primary key (tenant, purpose, kind));
create table cmp_subjects (tenant text not null, subject text not null, seq bigserial unique, state jsonb not null, primary key (tenant, subject));
create table findings (
  id bigserial primary key, tenant text not null, position bigint not null, event_id text not null, subject text,
  code text not null, severity text not null, message text not null, occurred_at text, recorded_at text not null);
create index findings_by_tenant on findings (tenant, id);
create index findings_by_code on findings (tenant, code, id);
create index findings_by_subject on findings (tenant, subject, id);
create index findings_by_event on findings (tenant, event_id);
create table read_models (id integer primary key check (id = 1), version integer not null, rebuilt_through bigint);`,
  },
  {
    // Categories as one text (U+0001 around each, as on SQLite): no per-row array building on insert;
    // the trail's type filter walks positions, like on SQLite, instead of keeping one more index per event.
    version: 2,
    sql: `
alter table audit_events alter column categories type text using chr(1) || array_to_string(categories, chr(1)) || chr(1);
drop index if exists audit_events_type;`,
  },
  {
    // Subjects' compliance documents are read and written whole, never queried inside: kept as text, not parsed by PostgreSQL.
    version: 3,
    sql: 'alter table cmp_subjects alter column state type text using state::text;',
  },
  {
    // Each event rewrites its subject's document: room on every page lets PostgreSQL update it in place (a
    // heap-only update: no new entries in the table's two indexes, no page of them dirtied).
    version: 4,
    sql: 'alter table cmp_subjects set (fillfactor = 50);',
  },
  {
    // The trail's facet index (see pgAuditTrailProjection), filled from the trail as it stands. (Commits
    // then added blocks of their own; version 7 gives every ledger the layout commits now keep.)
    version: 5,
    sql: `
create table audit_facets (tenant text not null, facet text not null, block bigint not null, bits varbit not null, primary key (tenant, facet, block));
create table audit_facet_counts (tenant text not null, facet text not null, n bigint not null, primary key (tenant, facet));
${FACET_FILL}`,
  },
  {
    // Only disclosed and transferred events have a recipient: without knowing it, PostgreSQL took a
    // recipient's 26,740 disclosures for 36 rows, joined them all to the log and sorted them to keep a
    // page (380 ms); with it, it walks the recipient's index in order (10 ms).
    version: 6,
    sql: 'create statistics audit_events_type_recipient (mcv, dependencies) on type, recipient from audit_events; analyze audit_events;',
  },
  {
    // The facet index in blocks of 1,024 positions on multiples of 1,024, each commit's bits ORed into
    // them (instead of blocks per commit: a ledger of small commits had a row per facet and event),
    // refilled from the trail; room on the pages so that ORing a commit's bits is a heap-only update.
    version: 7,
    sql: `
truncate audit_facets, audit_facet_counts;
alter table audit_facets set (fillfactor = 70);
${FACET_FILL}
analyze audit_facets, audit_facet_counts;`,
  },
];

/** Every read-model table (emptied before a rebuild from the log). */
export const READ_MODEL_TABLES = [
  'merkle_nodes', 'tenants', 'tokens', 'declarations', 'audit_events', 'subject_requests', 'authority_requests', 'authority_request_subjects',
  'audit_facets', 'audit_facet_counts', 'authority_disclosures', 'forgotten_subjects', 'destroyed_keys', 'access_log', 'access_log_subjects', 'ropa_observed', 'ropa_subjects',
  'ropa_subject_counts', 'cmp_subjects', 'findings',
];
