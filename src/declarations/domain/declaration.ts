import * as t from 'io-ts';
import { boundedArray, boundedString, oneOf, struct } from '../../common/kernel/codec.js';
import { CategoryKey, CountryCode, RecordedCountryCode } from '../../common/kernel/ids.js';
import { nullable } from '../../common/kernel/nullable.js';
import { Instant, IsoDuration, RecordedIsoDuration } from '../../common/kernel/time.js';

const Title = boundedString('a title', 256);

export const LEGAL_BASES = ['consent', 'contract', 'legal-obligation', 'vital-interests', 'public-task', 'legitimate-interests'] as const;

export const Agreement = struct('an agreement', { reference: boundedString('an agreement reference', 256), signedAt: Instant }, { expiresAt: Instant });

type Leaf = t.Type<string, string, unknown>;

/** The declarations' bodies, their countries and durations checked by `country` and `duration`. */
const bodies = (country: Leaf, duration: Leaf) => ({
  PurposeBody: struct('a purpose', {
    title: Title,
    legalBasis: oneOf('a legal basis', LEGAL_BASES),
    categories: boundedArray(CategoryKey, 1, 64, 'categories'),
    retention: struct('a retention rule', {
      period: nullable(duration),
      from: oneOf('a retention start', ['collection', 'last-activity'] as const),
    }, { minimum: duration }),
  }, { lawReference: boundedString('a law reference', 512) }),
  SystemBody: struct('a system', { name: Title, country }),
  RecipientBody: struct('a recipient', {
    name: Title,
    kind: oneOf('a recipient kind', ['processor', 'controller', 'public-authority'] as const),
    country,
  }, {
    agreement: Agreement,
    /** Certified under a framework an adequacy decision is limited to (the EU-US Data Privacy Framework). */
    certified: t.boolean,
  }),
});

export const { PurposeBody, SystemBody, RecipientBody } = bodies(CountryCode, IsoDuration);
/** The bodies as declaring entries may hold them: each country and duration as accepted when it was written. */
export const RECORDED_BODIES = bodies(RecordedCountryCode, RecordedIsoDuration);

export type PurposeBody = t.TypeOf<typeof PurposeBody>;
export type SystemBody = t.TypeOf<typeof SystemBody>;
export type RecipientBody = t.TypeOf<typeof RecipientBody>;

/** The three kinds of declaration, their log entry types and body codecs. */
export const DECLARATION_KINDS = {
  purposes: { entryType: 'purpose-declared', codec: PurposeBody },
  systems: { entryType: 'system-declared', codec: SystemBody },
  recipients: { entryType: 'recipient-declared', codec: RecipientBody },
} as const;
export type DeclarationKind = keyof typeof DECLARATION_KINDS;
/** The kind each declaring entry type declares. */
export const KIND_OF_ENTRY = { 'purpose-declared': 'purposes', 'system-declared': 'systems', 'recipient-declared': 'recipients' } as const;
const KIND_BY_TYPE: ReadonlyMap<string, DeclarationKind> = new Map(Object.entries(KIND_OF_ENTRY));
/** The kind a log entry of type `type` declares, or undefined when it declares none (asked for every entry folded). */
export const kindOfEntry = (type: string): DeclarationKind | undefined => KIND_BY_TYPE.get(type);
export const DeclarationKindCodec = oneOf('a declaration kind', ['purposes', 'systems', 'recipients'] as const);

export type DeclarationBody = PurposeBody | SystemBody | RecipientBody;

/** A declaration in force: its body and the version and log position that recorded it. */
export interface Declared<B = DeclarationBody> {
  readonly id: string;
  readonly version: number;
  readonly position: number;
  readonly recordedAt: string;
  readonly body: B;
}
