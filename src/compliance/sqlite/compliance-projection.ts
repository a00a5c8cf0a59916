import { sortableInstant } from '../../common/kernel/time.js';
import type { Db } from '../../common/sqlite/open-database.js';
import type { PurposeBody, RecipientBody, SystemBody } from '../../declarations/domain/declaration.js';
import { isProcessingEntry } from '../../ledger/domain/log-entry.js';
import { entryOf } from '../../ledger/entry-of.js';
import type { SqliteProjection } from '../../ledger/sqlite/sqlite-log-appender.js';
import type { Finding } from '../domain/finding.js';
import { judge, needs, retentionUnbounded, type Fact, type Policy } from '../domain/rules.js';
import { applyFact, subjectFacts } from '../domain/subject-state.js';
import { SqliteFindings } from './sqlite-findings.js';
import { SqliteSubjectStore } from './sqlite-subject-records.js';

/**
 * The compliance engine on the embedded store, folded into each commit: every processing event is
 * judged against the declarations in force and the subject's state (before the event), its findings
 * are stored and handed back with the append's outcome, then the event is folded into the state.
 * Declaring a purpose without a retention period raises `retention-unbounded` on that declaration.
 */
export function complianceProjection(db: Db): SqliteProjection {
  const subjects = new SqliteSubjectStore(db);
  const findings = new SqliteFindings(db);
  const declaration = db.prepare('select body from declarations where tenant = ? and kind = ? and id = ? order by version desc limit 1').pluck();
  const residency = db.prepare('select residency from tenants where id = ?').pluck();
  const cache = new Map<string, unknown>();
  const residencies = new Map<string, string[]>();
  const residencyOf = (tenant: string) => {
    let r = residencies.get(tenant);
    if (!r) residencies.set(tenant, (r = JSON.parse((residency.get(tenant) as string | undefined) ?? '["EEA"]') as string[]));
    return r;
  };
  const declared = <B>(tenant: string, kind: string, id: string): B | null => {
    const k = `${tenant}\u0000${kind}\u0000${id}`;
    if (!cache.has(k)) {
      const body = declaration.get(tenant, kind, id) as string | undefined;
      cache.set(k, body === undefined ? null : JSON.parse(body));
    }
    return cache.get(k) as B | null;
  };
  return {
    name: 'compliance',
    reset() {
      cache.clear();
      residencies.clear();
    },
    apply(_tx, events) {
      const said = new Map<string, Finding[]>();
      for (const { recorded, context } of events) {
        const e = entryOf(recorded, context);
        if (e.type === 'tenant-declared') { residencies.delete(e.tenant); continue; }
        if (e.type === 'purpose-declared' || e.type === 'system-declared' || e.type === 'recipient-declared') {
          cache.delete(`${e.tenant}\u0000${e.type.replace('-declared', 's')}\u0000${e.declaration.id}`);
          if (e.type === 'purpose-declared') {
            const f = retentionUnbounded(e.declaration.id, e.declaration.body);
            if (f) findings.add(e.tenant, { position: e.position, eventId: e.eventId, subject: null, occurredAt: null, recordedAt: sortableInstant(e.recordedAt) }, [f]);
          }
          continue;
        }
        if (!isProcessingEntry(e)) continue;
        const fact: Fact = { type: e.type, subject: e.subject.id, categories: e.categories, purpose: e.purpose, system: e.system, occurredAt: e.occurredAt, ...(e.details ? { details: e.details } : {}) };
        const recipientId = typeof e.details?.recipient === 'string' ? e.details.recipient : null;
        const policy: Policy = {
          residency: residencyOf(e.tenant),
          purpose: declared<PurposeBody>(e.tenant, 'purposes', e.purpose),
          system: declared<SystemBody>(e.tenant, 'systems', e.system),
          recipient: recipientId ? declared<RecipientBody>(e.tenant, 'recipients', recipientId) : null,
        };
        const records = subjects.records(e.tenant, e.subject.id);
        const found = judge(fact, policy, subjectFacts(records, fact, (p) => declared<PurposeBody>(e.tenant, 'purposes', p), null, needs(fact, policy)));
        if (found.length) {
          findings.add(e.tenant, { position: e.position, eventId: e.eventId, subject: e.subject.id, occurredAt: sortableInstant(e.occurredAt), recordedAt: sortableInstant(e.recordedAt) }, found);
          said.set(e.eventId, found);
        }
        applyFact(records, fact);
      }
      return said;
    },
  };
}
