import { randomUUID } from 'node:crypto';
import { boundedString } from './codec.js';

/** Generates identifiers; injected so that deciders stay deterministic under test. */
export interface IdGenerator {
  uuid(): string;
}

export const randomIds: IdGenerator = { uuid: () => randomUUID() };

export const Uuid = boundedString('a UUID', 36, /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'a UUID such as 0c5b6a1e-8f3a-4b2c-9d1e-2f3a4b5c6d7e');

/** Identifiers chosen by the organisation: tenants, purposes, systems, recipients. */
export const Slug = boundedString('an identifier', 64, /^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" or "-", starting with a letter or digit');

/** A fideslang-style dotted data category such as `user.device.ip_address`. */
export const CategoryKey = boundedString('a data category', 128, /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/, 'a dotted data category such as user.device.ip_address');

/** ISO 3166-1 alpha-2 country code. */
export const CountryCode = boundedString('a country code', 2, /^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 country code such as NL');
