import { randomUUID } from 'node:crypto';
import countries from 'i18n-iso-countries';
import type * as t from 'io-ts';
import { boundedString, oneOf } from './codec.js';

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

/** The ISO 3166-1 alpha-2 codes assigned to countries (and XK, Kosovo's code in EU use). */
export const COUNTRY_CODES: ReadonlySet<string> = new Set(Object.keys(countries.getAlpha2Codes()));

/** Codes often written for a country whose ISO code differs: named in the refusal. */
const NOT_ISO: Readonly<Record<string, string>> = { UK: 'the United Kingdom is GB', EL: 'Greece is GR' };

/**
 * A code from a closed list, upper case: `COUNTRY_CODES`, and `extra` where a list allows more. A code
 * of the right shape but assigned to no country (`XX`, `UK`) is refused too: judged against residency
 * and adequacy, it would read as a third country without a safeguard.
 */
export function countryCodeOf(name: string, what: string, extra: readonly string[] = []): t.Type<string, string, unknown> {
  return oneOf(name, [...new Set([...COUNTRY_CODES, ...extra])].sort(), {
    refusal: (u) => (u === undefined ? 'must be a string' : `must be ${what}${Object.hasOwn(NOT_ISO, u) ? ` (${NOT_ISO[u]})` : ''}`),
    description: what,
  });
}

/** ISO 3166-1 alpha-2 country code, one assigned to a country. */
export const CountryCode = countryCodeOf('a country code', 'an ISO 3166-1 alpha-2 country code such as NL');

/**
 * A country code as the log may hold it: two capital letters, all that was checked until 2026-12-02. An
 * entry is read back with what was accepted when it was written, never refused by a later, stricter rule.
 */
export const RecordedCountryCode = boundedString('a country code', 2, /^[A-Z]{2}$/, 'two capital letters');
