import * as t from 'io-ts';
import { boundedArray, boundedString, oneOf, struct } from '../../common/kernel/codec.js';
import { Uuid } from '../../common/kernel/ids.js';
import { Instant } from '../../common/kernel/time.js';

/** What a read of subject data through the ledger opened. */
export const ACCESS_KINDS = ['report', 'audit-trail', 'lookup'] as const;
export type AccessKind = (typeof ACCESS_KINDS)[number];

/**
 * What the log records of a read of subject data (the ledger processes personal data too): who read is
 * the entry's actor; which subjects, what was read, and why when the reader said so (the request being
 * answered). Never the value looked up: a lookup records the identifier's kind, not the identifier.
 */
export const AccessRecord = struct('an access', {
  what: oneOf('what was read', ACCESS_KINDS),
  subjects: boundedArray(boundedString('a subject id', 256), 0, 1000, 'subjects'),
}, {
  format: oneOf('a format', ['json', 'html', 'ndjson'] as const),
  asOf: Instant,
  identifierKind: boundedString('an identifier kind', 32),
  /** The subject or authority request the read answers. */
  request: Uuid,
});
export type AccessRecord = t.TypeOf<typeof AccessRecord>;
