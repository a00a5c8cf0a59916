import { Inject, Injectable } from '@nestjs/common';
import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { CLOCK } from '../../common/application/tokens.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import { formatInstant, type Clock } from '../../common/kernel/time.js';
import { CONFIG, type PdlConfig } from '../../config/config.js';
import { LedgerMetrics } from '../../operability/metrics.js';
import { tenantStream } from '../../ledger/domain/streams.js';
import { signCheckpoint, type SignedCheckpoint } from '../domain/checkpoint.js';
import { verifyConsistency } from '../domain/merkle.js';
import { CHECKPOINT_STORE, MERKLE_TREE, type CheckpointStore, type MerkleTreeReader } from '../integrity.ports.js';
import { SigningKeyring } from '../signing-keys.js';

/**
 * Signs tenant checkpoints: a new one whenever the tree has grown since the last, and only when the
 * tree still extends the last one it signed (checked with a consistency proof from the store), so a
 * store altered behind the ledger's back is refused rather than signed.
 */
@Injectable()
export class Checkpointer {
  constructor(
    @Inject(MERKLE_TREE) private readonly tree: MerkleTreeReader,
    @Inject(CHECKPOINT_STORE) private readonly store: CheckpointStore,
    private readonly keyring: SigningKeyring,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: PdlConfig,
    private readonly metrics: LedgerMetrics,
  ) {}

  origin(tenant: string): string {
    return `${this.config.ledgerName}/${tenant}`;
  }

  /** The latest checkpoint, covering every committed entry (signed now if the log grew). */
  async latest(tenant: string): Promise<Either<DomainError, SignedCheckpoint | null>> {
    const stream = tenantStream(tenant);
    const [size, last] = await Promise.all([this.tree.treeSize(stream), this.store.latest(stream)]);
    if (last && last.treeSize === size) return right(last);
    if (size === 0) return right(null);
    if (last) {
      const problem = await this.inconsistency(stream, last, size);
      if (problem) {
        this.metrics.checkpointsRefused.inc();
        return left({ _tag: 'IntegrityViolation', detail: problem });
      }
    }
    const signed = signCheckpoint({ origin: this.origin(tenant), treeSize: size, rootHash: await this.tree.root(stream, size), timestamp: formatInstant(this.clock.now()) }, this.keyring.signing());
    await this.store.save(stream, signed);
    this.metrics.checkpointsSigned.inc();
    return right(signed);
  }

  private async inconsistency(stream: string, last: SignedCheckpoint, size: number): Promise<string | null> {
    if (size < last.treeSize) return `the log has ${size} entries, fewer than the ${last.treeSize} of the last signed checkpoint`;
    try {
      const ok = verifyConsistency(last.treeSize, size, await this.tree.consistency(stream, last.treeSize, size), last.rootHash, await this.tree.root(stream, size));
      return ok ? null : `the first ${last.treeSize} entries no longer have the root of the last signed checkpoint`;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }
}
