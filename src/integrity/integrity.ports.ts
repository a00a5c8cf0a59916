import type { SignedCheckpoint } from './domain/checkpoint.js';

/** A tenant log's Merkle tree at any size it has had (RFC 9162), read from what the store keeps. */
export interface MerkleTreeReader {
  treeSize(stream: string): number;
  leafHash(stream: string, index: number): Buffer | null;
  root(stream: string, size: number): Buffer;
  inclusion(stream: string, index: number, size: number): Buffer[];
  consistency(stream: string, from: number, to: number): Buffer[];
}
export const MERKLE_TREE = Symbol('MerkleTreeReader');

/** The checkpoints this ledger signed, per tenant stream. */
export interface CheckpointStore {
  latest(stream: string): SignedCheckpoint | null;
  save(stream: string, checkpoint: SignedCheckpoint): void;
}
export const CHECKPOINT_STORE = Symbol('CheckpointStore');
