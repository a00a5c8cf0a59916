import { Inject } from '@nestjs/common';
import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import { left, right, type Either } from 'fp-ts/lib/Either.js';
import type { DomainError } from '../../common/kernel/domain-error.js';
import { formatInstant } from '../../common/kernel/time.js';
import { EVENT_STORE } from '../../storage/storage.tokens.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import { tenantStream } from '../../ledger/domain/streams.js';
import type { SignedCheckpoint } from '../domain/checkpoint.js';
import { MERKLE_TREE, type MerkleTreeReader } from '../integrity.ports.js';
import { SigningKeyManagedByEnvironment, SigningKeyring, type PublishedKey } from '../signing-keys.js';
import { Checkpointer } from './checkpointer.js';

/** A checkpoint as the API shows it: hex hashes, base64 signature, and the signed note itself. */
export interface CheckpointView {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly timestamp: string;
  readonly keyName: string;
  readonly keyId: string;
  readonly signature: string;
  readonly note: string;
}

export const checkpointView = (c: SignedCheckpoint): CheckpointView => ({
  origin: c.origin, treeSize: c.treeSize, rootHash: c.rootHash.toString('hex'), timestamp: c.timestamp,
  keyName: c.keyName, keyId: c.keyId.toString('hex'), signature: c.signature.toString('base64'), note: c.note,
});

const hex = (bs: readonly Buffer[]) => bs.map((b) => b.toString('hex'));

export class GetLatestCheckpoint extends Query<Either<DomainError, CheckpointView>> {
  constructor(readonly tenant: string) { super(); }
}

@QueryHandler(GetLatestCheckpoint)
export class GetLatestCheckpointHandler implements IQueryHandler<GetLatestCheckpoint> {
  constructor(private readonly checkpointer: Checkpointer) {}

  async execute({ tenant }: GetLatestCheckpoint): Promise<Either<DomainError, CheckpointView>> {
    const c = await this.checkpointer.latest(tenant);
    if (c._tag === 'Left') return c;
    if (!c.right) return left({ _tag: 'TreeSizeOutOfRange', detail: 'The log is empty: there is nothing to sign yet.' });
    return right(checkpointView(c.right));
  }
}

export interface InclusionProofView {
  readonly eventId: string;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly leafHash: string;
  readonly rootHash: string;
  readonly auditPath: string[];
}

export class GetInclusionProof extends Query<Either<DomainError, InclusionProofView>> {
  constructor(readonly tenant: string, readonly eventId: string, readonly treeSize: number | undefined) { super(); }
}

@QueryHandler(GetInclusionProof)
export class GetInclusionProofHandler implements IQueryHandler<GetInclusionProof> {
  constructor(@Inject(MERKLE_TREE) private readonly tree: MerkleTreeReader, @Inject(EVENT_STORE) private readonly events: EventStore) {}

  async execute({ tenant, eventId, treeSize }: GetInclusionProof): Promise<Either<DomainError, InclusionProofView>> {
    const stream = tenantStream(tenant);
    const [found] = await this.events.findByEventIds(stream, [eventId]);
    if (!found) return left({ _tag: 'EventNotFound', eventId });
    const current = await this.tree.treeSize(stream);
    const size = treeSize ?? current;
    if (size > current) return left({ _tag: 'TreeSizeOutOfRange', detail: `The log has ${current} entries; there is no tree of ${size}.` });
    if (found.revision >= size) return left({ _tag: 'TreeSizeOutOfRange', detail: `The event is at position ${found.revision}, outside a tree of ${size} entries; ask for treeSize ${found.revision + 1} or more.` });
    const [leaf, root, path] = await Promise.all([this.tree.leafHash(stream, found.revision), this.tree.root(stream, size), this.tree.inclusion(stream, found.revision, size)]);
    return right({ eventId, leafIndex: found.revision, treeSize: size, leafHash: leaf!.toString('hex'), rootHash: root.toString('hex'), auditPath: hex(path) });
  }
}

export interface ConsistencyProofView {
  readonly from: number;
  readonly to: number;
  readonly fromRoot: string;
  readonly toRoot: string;
  readonly proof: string[];
}

export class GetConsistencyProof extends Query<Either<DomainError, ConsistencyProofView>> {
  constructor(readonly tenant: string, readonly from: number, readonly to: number | undefined) { super(); }
}

@QueryHandler(GetConsistencyProof)
export class GetConsistencyProofHandler implements IQueryHandler<GetConsistencyProof> {
  constructor(@Inject(MERKLE_TREE) private readonly tree: MerkleTreeReader) {}

  async execute({ tenant, from, to }: GetConsistencyProof): Promise<Either<DomainError, ConsistencyProofView>> {
    const stream = tenantStream(tenant);
    const current = await this.tree.treeSize(stream);
    const end = to ?? current;
    if (from < 1) return left({ _tag: 'TreeSizeOutOfRange', detail: 'A consistency proof starts from a tree of at least 1 entry.' });
    if (from > end) return left({ _tag: 'TreeSizeOutOfRange', detail: `from (${from}) must not be larger than to (${end}).` });
    if (end > current) return left({ _tag: 'TreeSizeOutOfRange', detail: `The log has ${current} entries; there is no tree of ${end}.` });
    const [fromRoot, toRoot, proof] = await Promise.all([this.tree.root(stream, from), this.tree.root(stream, end), this.tree.consistency(stream, from, end)]);
    return right({ from, to: end, fromRoot: fromRoot.toString('hex'), toRoot: toRoot.toString('hex'), proof: hex(proof) });
  }
}

export class ListSigningKeys extends Query<PublishedKey[]> {}

@QueryHandler(ListSigningKeys)
export class ListSigningKeysHandler implements IQueryHandler<ListSigningKeys> {
  constructor(private readonly keyring: SigningKeyring) {}

  async execute(): Promise<PublishedKey[]> {
    return this.keyring.published();
  }
}

export class RotateSigningKey extends Command<Either<DomainError, PublishedKey>> {
  constructor(readonly at: Date) { super(); }
}

@CommandHandler(RotateSigningKey)
export class RotateSigningKeyHandler implements ICommandHandler<RotateSigningKey> {
  constructor(private readonly keyring: SigningKeyring) {}

  async execute({ at }: RotateSigningKey): Promise<Either<DomainError, PublishedKey>> {
    try {
      return right(this.keyring.rotate(formatInstant(at)));
    } catch (e) {
      if (e instanceof SigningKeyManagedByEnvironment) return left({ _tag: 'SigningKeyManagedElsewhere' });
      throw e;
    }
  }
}
