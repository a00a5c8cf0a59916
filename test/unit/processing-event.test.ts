import fc from 'fast-check';
import { formatInstant, Instant, IsoDuration, parseInstant } from '../../src/common/kernel/time.js';
import { decodeAppendBody } from '../../src/ledger/domain/processing-event.js';
import { inCanonicalOrder } from '../../src/ledger/domain/canonical.js';
import { anEvent } from '../support/builders.js';
import { COUNTRY_CODES, CountryCode } from '../../src/common/kernel/ids.js';
import { ResidencyItem } from '../../src/tenancy/domain/tenant.js';

const errorsOf = (body: unknown) => {
  const r = decodeAppendBody(body);
  return r._tag === 'Left' ? r.left : [];
};

describe('an append request', () => {
  it('accepts a well-formed event and normalises its time to UTC', () => {
    const r = decodeAppendBody({ events: [anEvent({ occurredAt: '2026-03-01T11:00:00+01:00' })] });
    expect(r._tag).toBe('Right');
    if (r._tag === 'Right') expect(r.right[0]!.occurredAt).toBe('2026-03-01T10:00:00Z');
  });

  it('decodes each event with its keys in canonical order, repeated categories once and empty details left out', () => {
    const r = decodeAppendBody({ events: [
      anEvent({ type: 'transferred', categories: ['user.contact.email', 'user.contact.email'], details: { recipient: 'mailer', mechanism: 'scc', country: 'US' } }),
      anEvent({ type: 'rectified', details: {} }),
    ] });
    expect(r._tag).toBe('Right');
    if (r._tag !== 'Right') return;
    const [transfer, rectified] = r.right;
    expect(inCanonicalOrder(transfer)).toBe(true);
    expect(Object.keys(transfer!)).toEqual(['actor', 'categories', 'details', 'eventId', 'occurredAt', 'purpose', 'subject', 'system', 'type']);
    expect(Object.keys(transfer!.details!)).toEqual(['country', 'mechanism', 'recipient']);
    expect(transfer!.categories).toEqual(['user.contact.email']);
    expect('details' in rectified!).toBe(false);
  });

  it('names the path of each bad field', () => {
    const errors = errorsOf({ events: [anEvent(), anEvent({ occurredAt: 'yesterday' }), anEvent({ eventId: '42' })] });
    expect(errors.map((e) => e.path)).toEqual(['events[1].occurredAt', 'events[2].eventId']);
  });

  it('refuses unknown types, fields and details', () => {
    expect(errorsOf({ events: [anEvent({ type: 'teleported' })] })[0]!.path).toBe('events[0].type');
    expect(errorsOf({ events: [anEvent({ colour: 'red' })] })[0]).toEqual({ path: 'events[0].colour', message: 'is not a known field' });
    expect(errorsOf({ events: [anEvent({ type: 'disclosed', details: {} })] })[0]!.path).toBe('events[0].details.recipient');
    expect(errorsOf({ events: [anEvent({ details: { source: 'observed', note: 'x' } })] })[0]!.path).toBe('events[0].details.note');
  });

  it('refuses an empty batch, more than 1000 events and repeated ids', () => {
    expect(errorsOf({ events: [] })[0]!.message).toMatch(/empty/);
    expect(errorsOf({ events: Array.from({ length: 1001 }, () => anEvent()) })[0]!.message).toMatch(/limit of 1000/);
    const e = anEvent();
    expect(errorsOf({ events: [e, e] })[0]!.path).toBe('events[1].eventId');
  });

  it('names the limit a too long value breaks, without echoing the value', () => {
    const [error] = errorsOf({ events: [anEvent({ subject: { id: 'x'.repeat(5000) } })] });
    expect(error).toEqual({ path: 'events[0].subject.id', message: 'is longer than the limit of 256 characters' });
  });

  it('never echoes an identifier value in an error', () => {
    const errors = errorsOf({ events: [anEvent({ subject: { id: 's', identifiers: { ip: 42 } } })] });
    expect(JSON.stringify(errors)).not.toContain('42');
    expect(errors[0]!.path).toBe('events[0].subject.identifiers.ip');
  });

  it('never echoes a key that does not read as a field name: an address sent as an identifier kind, a huge unknown field', () => {
    const errors = errorsOf({ events: [anEvent({ subject: { id: 's', identifiers: { 'jane@example.org': 'email', '203.0.113.7': 'ip' } }, ['x'.repeat(100_000)]: 1 })] });
    const text = JSON.stringify(errors);
    for (const secret of ['jane', '203.0.113', 'xxxx']) expect(text).not.toContain(secret);
    expect(errors.map((e) => e.path)).toEqual(['events[0][…]', 'events[0].subject.identifiers[…]']);
    // A field name is named, as before.
    expect(errorsOf({ events: [anEvent({ colour_2: 'red' })] })[0]!.path).toBe('events[0].colour_2');
  });

  it('accepts every event type with its details', () => {
    const details: Record<string, unknown> = {
      collected: { source: 'data-subject' }, stored: { country: 'DE' }, used: { operation: 'score' }, rectified: undefined,
      disclosed: { recipient: 'email-platform' }, transferred: { country: 'US', mechanism: 'scc' }, erased: { reason: 'retention' },
      restricted: undefined, 'restriction-lifted': undefined, objected: undefined, 'consent-given': { noticeVersion: 'v3', method: 'checkbox' },
      'consent-withdrawn': { method: 'link' }, activity: undefined,
    };
    const events = Object.entries(details).map(([type, d]) => anEvent({ type, details: d }));
    expect(decodeAppendBody({ events })._tag).toBe('Right');
  });
});

describe('an instant', () => {
  // What the codec did before its shortcut for text already in normal form: parse, then write again.
  const slow = (s: string) => { const d = s.length <= 40 ? parseInstant(s) : null; return d ? formatInstant(d) : null; };
  const decoded = (s: string) => { const r = Instant.decode(s); return r._tag === 'Right' ? r.right : null; };
  const two = (n: number) => String(n).padStart(2, '0');
  const stamps = fc.tuple(fc.integer({ min: 1960, max: 10000 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 24 }),
    fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 61 }), fc.constantFrom('', '.000', '.5', '.123', '.120', '.999999', '.0001'), fc.constantFrom('Z', 'z', '+00:00', '+01:30', '-05:00'), fc.constantFrom('T', 't'))
    .map(([y, mo, d, h, mi, s, frac, zone, sep]) => `${String(y).padStart(4, '0')}-${two(mo)}-${two(d)}${sep}${two(h)}:${two(mi)}:${two(s)}${frac}${zone}`);
  it('is normalised (or refused) exactly as parsing and writing it again would', () => {
    fc.assert(fc.property(stamps, (s) => { expect(decoded(s)).toBe(slow(s)); }), { numRuns: 5000 });
    for (const s of ['2024-02-29T10:00:00Z', '2023-02-29T10:00:00Z', '2026-04-31T00:00:00Z', '2026-03-01T10:00:00.000Z', '1969-12-31T23:59:59Z', '2026-03-01T10:00:60Z']) expect(decoded(s)).toBe(slow(s));
  });
});

describe('a duration', () => {
  const refusal = (s: unknown) => { const r = IsoDuration.decode(s); return r._tag === 'Left' ? r.left[0]!.message : null; };
  it('is an ISO 8601 duration of at most a thousand years', () => {
    for (const s of ['PT30M', 'P6M', 'P1Y', 'P1W2DT1H', 'P1000Y', 'P12000M', 'P999Y11M', 'P365242D']) expect(refusal(s)).toBeNull();
    for (const s of ['P1001Y', 'P12001M', 'P1000Y1D', 'P999999999Y', 'P99999999999999999999D', 'PT9999999999999H', 'P', 'PT', '1Y', 'P1.5Y', 'P-1Y', 7])
      expect(refusal(s)).toBe('must be an ISO 8601 duration such as PT30M, P6M or P1Y, of at most 1000 years');
  });
});

describe('a country code', () => {
  const refusal = (codec: typeof CountryCode, s: unknown) => { const r = codec.decode(s); return r._tag === 'Left' ? r.left[0]!.message : null; };
  it('is one assigned to a country, upper case; a residency also takes EU and EEA', () => {
    for (const s of ['NL', 'DE', 'GB', 'GR', 'US', 'XK', 'AQ']) expect([s, refusal(CountryCode, s)]).toEqual([s, null]);
    expect(COUNTRY_CODES.size).toBeGreaterThanOrEqual(249);
    for (const s of ['XX', 'ZZ', 'AA', 'nl', 'EU', 'NLD', '', 'N']) expect([s, refusal(CountryCode, s)]).toEqual([s, 'must be an ISO 3166-1 alpha-2 country code such as NL']);
    expect(refusal(CountryCode, 'UK')).toBe('must be an ISO 3166-1 alpha-2 country code such as NL (the United Kingdom is GB)');
    expect(refusal(CountryCode, 'EL')).toBe('must be an ISO 3166-1 alpha-2 country code such as NL (Greece is GR)');
    expect(refusal(CountryCode, 42)).toBe('must be a string');
    for (const s of ['EU', 'EEA', 'NO', 'CH']) expect(refusal(ResidencyItem, s)).toBeNull();
    for (const s of ['XX', 'EFTA', 'eu', 'toString', '__proto__']) expect(refusal(ResidencyItem, s)).toBe('must be an ISO 3166-1 alpha-2 country code, EU or EEA');
  });
});
