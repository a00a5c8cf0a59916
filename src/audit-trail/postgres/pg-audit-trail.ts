import type pg from 'pg';
import { sortableInstant } from '../../common/kernel/time.js';
import { insertStatement, lookUpEach } from '../../common/postgres/rows.js';
import { leafHash } from '../../ledger/domain/canonical.js';
import type { ProcessingEntry } from '../../ledger/domain/log-entry.js';
import { PROCESSING_TYPES } from '../../ledger/domain/processing-event.js';
import { entryOf, storedEntryOf } from '../../ledger/entry-of.js';
import type { PgProjection } from '../../ledger/postgres/pg-projection.js';
import type { AuditFilter, AuditRow, AuditTrailReadModel } from '../audit-trail-read-model.port.js';
import { facet, facetsOf, filterFacets } from '../facets.js';

const PROCESSING = new Set<string>(PROCESSING_TYPES);

/**
 * The facet index's blocks: the positions `block` to `block + FACET_BLOCK - 1`, `block` a multiple of
 * it, per tenant. Every facet of a block has a bit string of this length (bit i: position block + i has
 * the facet), so that facets intersect by a bitwise AND.
 */
export const FACET_BLOCK = 1024;

/**
 * The audit trail's index: one row per processing event, searchable without decrypting anything; and its
 * facet index (see `facet`): per block and facet, a bit string of the block's positions, each commit's
 * bits ORed into its blocks' rows (a commit touches a few dozen rows, in its one statement of writes,
 * instead of adding an index entry per facet and event; a million events keep some 31,000 rows, however
 * many commits brought them), with each facet's count (a filter of several starts from its rarest).
 */
export function pgAuditTrailProjection(): PgProjection {
  return {
    name: 'audit-trail',
    tables: ['audit_events', 'audit_facets', 'audit_facet_counts'],
    async apply(_tx, events, writes) {
      const rows: unknown[][] = [];
      // Per (tenant, block, facet): the facet's offsets in the block.
      const offsets = new Map<string, [tenant: string, facet: string, block: number, offsets: number[]]>();
      for (const { recorded, context } of events) {
        if (!PROCESSING.has(recorded.type)) continue;
        const e = entryOf(recorded, context);
        if (!('subject' in e)) continue;
        const recipient = typeof e.details?.recipient === 'string' ? e.details.recipient : null;
        rows.push([e.tenant, e.position, recorded.stream, e.type, e.subject.id, e.purpose, e.system, recipient, `\u0001${e.categories.join('\u0001')}\u0001`,
          sortableInstant(e.occurredAt), sortableInstant(e.recordedAt), recorded.leafHash ?? leafHash(recorded.data)]);
        const block = e.position - (e.position % FACET_BLOCK);
        for (const f of [...facetsOf(e), ...(recipient !== null ? [facet('recipient', recipient)] : [])]) {
          const key = `${e.tenant}\u0000${block}\u0000${f}`;
          const o = offsets.get(key);
          if (o) o[3].push(e.position - block);
          else offsets.set(key, [e.tenant, f, block, [e.position - block]]);
        }
      }
      writes.add(insertStatement('audit_events', [['tenant', 'text'], ['position', 'bigint'], ['stream', 'text'], ['type', 'text'], ['subject', 'text'], ['purpose', 'text'],
        ['system', 'text'], ['recipient', 'text'], ['categories', 'text'], ['occurred_at', 'text'], ['recorded_at', 'text'], ['hash', 'bytea']], rows, 'on conflict do nothing'));
      const counts = new Map<string, [tenant: string, facet: string, n: number]>();
      const facetRows = [...offsets.values()].map(([tenant, f, block, list]) => {
        const bits = new Array<string>(FACET_BLOCK).fill('0');
        for (const i of list) bits[i] = '1';
        const c = counts.get(`${tenant}\u0000${f}`);
        if (c) c[2] += list.length;
        else counts.set(`${tenant}\u0000${f}`, [tenant, f, list.length]);
        return [tenant, f, block, bits.join('')];
      });
      writes.add(insertStatement('audit_facets', [['tenant', 'text'], ['facet', 'text'], ['block', 'bigint'], ['bits', 'varbit']], facetRows,
        'on conflict (tenant, facet, block) do update set bits = audit_facets.bits | excluded.bits'));
      writes.add(insertStatement('audit_facet_counts', [['tenant', 'text'], ['facet', 'text'], ['n', 'bigint']], [...counts.values()],
        'on conflict (tenant, facet) do update set n = audit_facet_counts.n + excluded.n'));
    },
  };
}

/**
 * A row of the trail: the hash as hex and the entry as text (bytea would come as hexadecimal text, decoded
 * here), the entry's bytes taken from `data` (the log's column, or a look-up's).
 */
const rowOf = (data: string) => `a.position, encode(a.hash, 'hex') as hash, convert_from(${data}, 'UTF8') as data`;
const ROW = rowOf('e.data');
const FROM = 'audit_events a join events e on e.stream = a.stream and e.revision = a.position';
/**
 * The trail's rows of a tenant (`$1`) at the positions of `$2`, `a` with its entry's bytes `data`: each
 * looked up by its primary key whatever the statistics say (`lookUpEach`; written `a.tenant = $1 and
 * a.position = any($2)`, the planner of a table never analysed read every row of the tenant).
 */
const AT_POSITIONS = lookUpEach({ k: '$2::bigint[]' }, 'a', `select t.*, e.data from audit_events t join events e on e.stream = t.stream and e.revision = t.position
  where t.tenant = $1 and t.position = k limit 1`);
const ROW_AT = rowOf('a.data');

const COLUMNS = { purpose: 'a.purpose', recipient: 'a.recipient', system: 'a.system', type: 'a.type', subject: 'a.subject' } as const;

/** What a row of `audit_events a` must satisfy to pass the filter, its parameters pushed onto `args`. */
function conditions(filter: AuditFilter, args: unknown[]): string[] {
  const where: string[] = [];
  const arg = (v: unknown) => `$${args.push(v)}`;
  for (const [k, column] of Object.entries(COLUMNS) as Array<[keyof typeof COLUMNS, string]>) if (filter[k] !== undefined) where.push(`${column} = ${arg(filter[k])}`);
  if (filter.category !== undefined) where.push(`strpos(a.categories, ${arg(`\u0001${filter.category}\u0001`)}) > 0`);
  if (filter.from !== undefined) where.push(`a.occurred_at >= ${arg(filter.from)}`);
  if (filter.to !== undefined) where.push(`a.occurred_at < ${arg(filter.to)}`);
  if (filter.through !== undefined) where.push(`a.position <= ${arg(filter.through)}`);
  if (filter.disclosures) {
    where.push("a.type in ('disclosed', 'transferred')");
    where.push(filter.recipients ? `a.recipient = any(${arg(filter.recipients)}::text[])` : 'a.recipient is not null');
  }
  return where;
}

/** Blocks holding candidates read at once at first (more each time the page is not yet full). */
const FIRST_BLOCKS = 4;
const MAX_BLOCKS = 1024;
/** With dates in the filter, the trail is walked rather than the facet's rows read one by one when the facet has more than 1/SCAN_RATIO of them. */
const SCAN_RATIO = 50;
/** Candidates' rows read in one query, at most. */
const MAX_READ = 16_384;

/** Processing events of a tenant in log order, filtered on the trail's columns, the entries read from the log. */
export class PgAuditTrailReadModel implements AuditTrailReadModel {
  constructor(private readonly pool: pg.Pool) {}

  async at(tenant: string, positions: readonly number[]): Promise<AuditRow[]> {
    if (positions.length === 0) return [];
    return this.rows(`select ${ROW_AT} from ${AT_POSITIONS} order by a.position`, [tenant, [...new Set(positions)]]);
  }

  async page(tenant: string, filter: AuditFilter, afterPosition: number, limit: number): Promise<AuditRow[]> {
    const facets = [...new Set([...filterFacets(filter), ...(filter.recipient !== undefined ? [facet('recipient', filter.recipient)] : [])])];
    // A subject's rows come from the subject's index, the disclosures from the recipients' one.
    if (facets.length > 0 && filter.subject === undefined && !filter.disclosures) return this.facetPage(tenant, filter, facets, afterPosition, limit);
    if (filter.disclosures && filter.recipients?.length && filter.subject === undefined) {
      // Each recipient's rows in order from the recipients' index, merged (as one `= any(…)` PostgreSQL
      // would read every row of them all, sort them, and keep the page: 45 ms for an authority's 2,700).
      const args: unknown[] = [tenant, afterPosition];
      const where = ['a.tenant = $1', 'a.position > $2', ...conditions({ ...filter, recipients: undefined }, args)];
      const n = `$${args.push(limit)}`;
      const each = filter.recipients.map((r) => `(select ${ROW} from ${FROM} where ${where.join(' and ')} and a.recipient = $${args.push(r)} order by a.position limit ${n})`);
      return this.rows(`select * from (${each.join(' union all ')}) m order by position limit ${n}`, args);
    }
    return this.scan(tenant, filter, afterPosition, limit);
  }

  /** The trail in position order after `afterPosition`, each row checked against the filter. */
  private scan(tenant: string, filter: AuditFilter, afterPosition: number, limit: number): Promise<AuditRow[]> {
    const args: unknown[] = [tenant, afterPosition];
    const where = ['a.tenant = $1', 'a.position > $2', ...conditions(filter, args)];
    return this.rows(`select ${ROW} from ${FROM} where ${where.join(' and ')} order by a.position limit $${args.push(limit)}`, args);
  }

  /**
   * A page of a filter naming facets: the rarest facet's blocks in order, each ANDed (by PostgreSQL) with
   * every other facet's bits of the same block; blocks left without a bit are passed over there, so only
   * candidates travel. Their rows are then read and checked against the whole filter (the index only ever
   * narrows; the row's columns decide).
   */
  private async facetPage(tenant: string, filter: AuditFilter, facets: readonly string[], afterPosition: number, limit: number): Promise<AuditRow[]> {
    // The facets' counts, and the types' (their sum: the tenant's processing events).
    const rows = (await this.pool.query<{ facet: string; n: number }>("select facet, n from audit_facet_counts where tenant = $1 and (facet = any($2) or facet like 't:%')", [tenant, facets])).rows;
    const counts = new Map(rows.filter((r) => facets.includes(r.facet)).map((r) => [r.facet, r.n]));
    // A facet the index has never seen: no row has it.
    if (counts.size < facets.length) return [];
    const [driver, ...others] = [...facets].sort((a, b) => counts.get(a)! - counts.get(b)!) as [string, ...string[]];
    // Dates, which the index does not know, may refuse most of a facet's rows: each read alone costs as
    // much as a hundred read in order (1M-event ledger: ~10 against ~0.1 µs), so unless the facet is rare,
    // the trail is walked instead.
    const trail = rows.filter((r) => r.facet.startsWith('t:')).reduce((n, r) => n + r.n, 0);
    if ((filter.from !== undefined || filter.to !== undefined) && counts.get(driver)! * SCAN_RATIO > trail) return this.scan(tenant, filter, afterPosition, limit);
    const upto = filter.through ?? Number.MAX_SAFE_INTEGER;
    const joins = others.map((_, i) => `join audit_facets o${i} on o${i}.tenant = d.tenant and o${i}.facet = $${6 + i} and o${i}.block = d.block`).join(' ');
    const bits = ['d.bits', ...others.map((_, i) => `o${i}.bits`)].join(' & ');
    const out: AuditRow[] = [];
    let last = -1;
    // Candidates whose rows are read at once, at least: twice what the page still needs, more once they are refused.
    let read = 64;
    // The block holding the position after `afterPosition` (blocks are on multiples of FACET_BLOCK).
    const first = afterPosition + 1 - ((afterPosition + 1) % FACET_BLOCK);
    for (let take = FIRST_BLOCKS; out.length < limit; take = Math.min(take * 4, MAX_BLOCKS)) {
      // From that block, after the last block read.
      const { rows }: { rows: Array<{ block: number; bits: string }> } = await this.pool.query(`select d.block, ${bits} as bits from audit_facets d ${joins}
        where d.tenant = $1 and d.facet = $2 and d.block >= $3 and d.block > $4 and d.block <= $5${others.length ? ` and bit_count(${bits}) > 0` : ''}
        order by d.block limit $${6 + others.length}`,
      [tenant, driver, first, last, upto, ...others, take]);
      const candidates: number[] = [];
      for (const { block, bits: b } of rows) {
        for (let i = b.indexOf('1'); i >= 0; i = b.indexOf('1', i + 1)) if (block + i > afterPosition && block + i <= upto) candidates.push(block + i);
      }
      for (let i = 0; i < candidates.length && out.length < limit;) {
        const slice = candidates.slice(i, i + Math.max(2 * (limit - out.length), read));
        i += slice.length;
        const args: unknown[] = [tenant, slice];
        const where = conditions(filter, args);
        const found = await this.rows(`select ${ROW_AT} from ${AT_POSITIONS}${where.length ? ` where ${where.join(' and ')}` : ''} order by a.position limit $${args.push(limit - out.length)}`, args);
        out.push(...found);
        // Most of them refused (by the filter's dates, which the index does not know): more at a time.
        if (found.length < slice.length / 2) read = Math.min(read * 4, MAX_READ);
      }
      if (rows.length < take) break;
      last = rows[rows.length - 1]!.block;
    }
    return out;
  }

  private async rows(sql: string, args: unknown[]): Promise<AuditRow[]> {
    const { rows } = await this.pool.query<{ position: number; hash: string; data: string }>(sql, args);
    return rows.map((r) => ({ position: r.position, hash: r.hash, entry: storedEntryOf(r.data) as ProcessingEntry }));
  }
}
