import type { MerkleTreeReader } from '../../integrity/integrity.ports.js';
import { tenantStream } from '../../ledger/domain/streams.js';
import type { KeyStore, LogMarkKind } from '../key-store.port.js';

/**
 * How far in each tenant's log some work was done, as the key store keeps it: a position and the leaf
 * hash of the entry there, so that a mark that no longer matches its log (a ledger restored from another
 * backup) is not trusted and the work starts again from the beginning.
 */
export class LogMarks {
  constructor(private readonly keys: KeyStore, private readonly tree: MerkleTreeReader) {}

  private async hashAt(tenant: string, position: number): Promise<string | null> {
    return (await this.tree.leafHash(tenantStream(tenant), position))?.toString('hex') ?? null;
  }

  /** The tenant's last log position (-1: an empty log). */
  async head(tenant: string): Promise<number> {
    return (await this.tree.treeSize(tenantStream(tenant))) - 1;
  }

  /** Through which position `kind` was done: the stored mark if it matches the log, else -1 (`mismatch` is told). */
  async through(tenant: string, kind: LogMarkKind, mismatch: () => void = () => undefined): Promise<number> {
    const mark = await this.keys.logMark(tenant, kind);
    if (!mark) return -1;
    if ((await this.hashAt(tenant, mark.position)) === mark.hash) return mark.position;
    mismatch();
    return -1;
  }

  /** Records that `kind` was done through `position`. */
  async set(tenant: string, kind: LogMarkKind, position: number): Promise<void> {
    const hash = await this.hashAt(tenant, position);
    if (hash) await this.keys.setLogMark(tenant, kind, { position, hash });
  }
}
