import * as t from 'io-ts';
import { boundedArray, boundedString, struct } from '../../common/kernel/codec.js';
import { CategoryKey, Slug, Uuid } from '../../common/kernel/ids.js';
import { Instant } from '../../common/kernel/time.js';
import { FINDING_CODES } from '../../compliance/domain/finding.js';
import { oneOf } from '../../common/kernel/codec.js';
import { ProcessingTypeCodec } from '../../ledger/domain/processing-event.js';

/** `POST …/decisions`: may this be done? (`at`: when it would happen; default now.) */
export const DecisionBody = struct('a proposed action', {
  subject: struct('a subject', { id: boundedString('a subject id', 256) }),
  type: ProcessingTypeCodec,
  purpose: Slug,
  categories: boundedArray(CategoryKey, 1, 64, 'categories'),
  system: Slug,
}, { recipient: Slug, authorityRequestId: Uuid, at: Instant });
export type DecisionBody = t.TypeOf<typeof DecisionBody>;

/** What the log records of a decision: who asked is the entry's actor; the findings by code. */
export const DecisionRecord = struct('a decision', {
  subject: boundedString('a subject id', 256), type: ProcessingTypeCodec, purpose: Slug, categories: boundedArray(CategoryKey, 1, 64, 'categories'),
  system: Slug, at: Instant, allowed: t.boolean, findings: t.array(oneOf('a finding code', FINDING_CODES)),
}, { recipient: Slug, authorityRequestId: Uuid });
