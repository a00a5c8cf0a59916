import { hash, randomBytes } from 'node:crypto';

/** A bearer token: 256 random bits. Only its SHA-256 is ever stored (it has too much entropy to guess). */
export const newTokenSecret = (): string => `pdl_${randomBytes(32).toString('base64url')}`;
export const tokenHash = (token: string): string => hash('sha256', token, 'hex');
