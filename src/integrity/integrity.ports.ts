import type { SignedCheckpoint } from './domain/checkpoint.js';

/** A tenant log's Merkle tree at any size it has had (RFC 9162), read from what the store keeps. */
export interface MerkleTreeReader {
  treeSize(stream: string): Promise<number>;
  leafHash(stream: string, index: number): Promise<Buffer | null>;
  /** The leaf hashes of entries [from, from + count) that the tree holds, in order. */
  leafHashes(stream: string, from: number, count: number): Promise<Buffer[]>;
  root(stream: string, size: number): Promise<Buffer>;
  inclusion(stream: string, index: number, size: number): Promise<Buffer[]>;
  consistency(stream: string, from: number, to: number): Promise<Buffer[]>;
}
export const MERKLE_TREE = Symbol('MerkleTreeReader');

/** The checkpoints this ledger signed, per tenant stream. */
export interface CheckpointStore {
  latest(stream: string): Promise<SignedCheckpoint | null>;
  save(stream: string, checkpoint: SignedCheckpoint): Promise<void>;
}
export const CHECKPOINT_STORE = Symbol('CheckpointStore');
