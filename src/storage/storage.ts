import type { AnswersReadModel } from '../answers/answers-read-model.port.js';
import type { AuditTrailReadModel } from '../audit-trail/audit-trail-read-model.port.js';
import type { ComplianceStateReader, DecisionJudge, FlushDeferred } from '../compliance/compliance-state.port.js';
import type { Finding } from '../compliance/domain/finding.js';
import type { FindingsReadModel } from '../compliance/findings-read-model.port.js';
import type { RetentionReadModel } from '../compliance/retention-read-model.port.js';
import type { DeclarationsReadModel } from '../declarations/declarations-read-model.port.js';
import type { CheckpointStore, MerkleTreeReader } from '../integrity/integrity.ports.js';
import type { KeyStore } from '../keys/key-store.port.js';
import type { EventStore } from '../ledger/event-store.port.js';
import type { RequestsReadModel } from '../requests/requests-read-model.port.js';
import type { TenantDirectory } from '../tenancy/tenant-directory.port.js';
import type { RebuildReport } from '../ledger/sqlite/sqlite-log-appender.js';

export type { RebuildReport };

/** A backend (embedded SQLite, PostgreSQL): the event store, the key store and every read model's port. */
export interface LedgerStorage {
  readonly eventStore: EventStore;
  readonly keyStore: KeyStore;
  readonly merkle: MerkleTreeReader;
  readonly findings: FindingsReadModel & { ofEvents(tenant: string, eventIds: readonly string[]): Promise<ReadonlyMap<string, readonly Finding[]>> };
  readonly retention: RetentionReadModel & ComplianceStateReader;
  readonly requests: RequestsReadModel;
  readonly decisions: DecisionJudge;
  /** Writes out what the store defers (indexes written after their commits), for readers that must see everything committed. */
  readonly flushDeferred: FlushDeferred;
  readonly checkpoints: CheckpointStore;
  readonly tenants: TenantDirectory;
  readonly declarations: DeclarationsReadModel;
  readonly auditTrail: AuditTrailReadModel;
  readonly answers: AnswersReadModel;
  /** What the start-up rebuild of the read models did, if one ran. */
  readonly rebuilt: RebuildReport | null;
  /** The storage worker's heap, when writes run on one. */
  workerHeap(): Promise<{ used: number; total: number } | null>;
  healthy(): boolean | Promise<boolean>;
  /** Only this process writes the store (embedded): what it caches of the read models stays true until its own next commit. */
  readonly exclusive: boolean;
  /** Whether this process runs the background job `job` among the processes sharing the store (embedded: always). */
  leads(job: string): Promise<boolean>;
  close(): Promise<void>;
}
