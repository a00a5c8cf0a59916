import { sortableInstant } from '../../common/kernel/time.js';
import type { Db } from '../../common/sqlite/open-database.js';
import { isProcessingEntry } from '../../ledger/domain/log-entry.js';
import { entryOf } from '../../ledger/entry-of.js';
import type { SqliteProjection } from '../../ledger/sqlite/sqlite-log-appender.js';
import type { Finding } from '../domain/finding.js';
import { factOf, retentionUnbounded } from '../domain/rules.js';
import { FINDINGS_SCHEMA, SqliteFindings } from './sqlite-findings.js';
import { SUBJECT_RECORDS_SCHEMA } from './sqlite-subject-records.js';
import { SqliteJudge } from './sqlite-judge.js';
import { KIND_OF_ENTRY } from '../../declarations/domain/declaration.js';
import { ActivityIndex } from './activity-index.js';

/**
 * The compliance engine on the embedded store, folded into each commit: every processing event is
 * judged against the declarations in force and the subject's state (before the event), its findings
 * are stored and handed back with the append's outcome, then the event is folded into the state.
 * Declaring a purpose without a retention period raises `retention-unbounded` on that declaration.
 */
export function complianceProjection(db: Db): SqliteProjection {
  const activity = new ActivityIndex();
  const judge = new SqliteJudge(db, true, activity);
  const findings = new SqliteFindings(db);
  return {
    name: 'compliance',
    rebuild: { tables: ['findings', 'cmp_consents', 'cmp_restrictions', 'cmp_objections', 'cmp_holdings', 'cmp_holding_purposes'], schema: SUBJECT_RECORDS_SCHEMA + FINDINGS_SCHEMA },
    deferred: [activity],
    reset() {
      judge.forget();
      activity.drop();
    },
    beginRebuild: (db) => judge.subjects.beginRebuild(db),
    endRebuild: () => judge.subjects.endRebuild(),
    apply(_tx, events) {
      const said = new Map<string, Finding[]>();
      for (const { recorded, context } of events) {
        const e = entryOf(recorded, context);
        if (e.type === 'tenant-declared') { judge.forgetDeclared(e.tenant, 'tenant'); continue; }
        if (e.type === 'purpose-declared' || e.type === 'system-declared' || e.type === 'recipient-declared') {
          judge.forgetDeclared(e.tenant, KIND_OF_ENTRY[e.type], e.declaration.id);
          if (e.type === 'purpose-declared') {
            const f = retentionUnbounded(e.declaration.id, e.declaration.body);
            if (f) findings.add(e.tenant, { position: e.position, eventId: e.eventId, subject: null, occurredAt: null, recordedAt: sortableInstant(e.recordedAt) }, [f]);
          }
          continue;
        }
        if (!isProcessingEntry(e)) continue;
        const fact = factOf(e);
        const found = judge.judge(e.tenant, fact, true, e.position);
        if (found.length) {
          findings.add(e.tenant, { position: e.position, eventId: e.eventId, subject: e.subject.id, occurredAt: sortableInstant(e.occurredAt), recordedAt: sortableInstant(e.recordedAt) }, found);
          said.set(e.eventId, found);
        }
      }
      return said;
    },
  };
}
