import * as t from 'io-ts';
import { withSchema } from './codec.js';

/** The single source of "now" for the application; the domain receives times as parameters. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** Formats an instant as RFC 3339 UTC, with milliseconds only when there are any. */
export function formatInstant(d: Date): string {
  const iso = d.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

export function parseInstant(s: string): Date | null {
  const m = RFC3339.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, se] = m.map(Number) as number[];
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h! > 23 || mi! > 59 || se! > 60) return null;
  const date = new Date(s.toUpperCase());
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1970 || date.getUTCFullYear() > 9999) return null;
  if (new Date(Date.UTC(y!, mo! - 1, d!)).getUTCDate() !== d) return null;
  return date;
}

/** Already in the normalised form (UTC, `Z`, whole seconds or non-zero milliseconds): kept as it is once checked. */
const NORMALISED = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?Z$/;
const daysIn = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();

/** `s` if it is a valid instant already written as `formatInstant` writes it; otherwise null (then parse it). */
function normalisedAlready(s: string): string | null {
  const m = NORMALISED.exec(s);
  if (!m || m[7] === '000') return null;
  const y = +m[1]!, mo = +m[2]!, d = +m[3]!;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || +m[4]! > 23 || +m[5]! > 59 || +m[6]! > 59) return null;
  return d <= daysIn(y, mo) ? s : null;
}

/** An RFC 3339 time, normalised to UTC (`2026-01-10T09:00:00Z`) so equal instants have equal text. */
export const Instant = withSchema(new t.Type<string, string, unknown>(
  'an RFC 3339 time such as 2026-01-10T09:00:00Z',
  (u): u is string => typeof u === 'string' && parseInstant(u) !== null,
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c, 'must be an RFC 3339 time such as 2026-01-10T09:00:00Z');
    const kept = normalisedAlready(u);
    if (kept) return t.success(kept);
    const d = u.length <= 40 ? parseInstant(u) : null;
    return d ? t.success(formatInstant(d)) : t.failure(u, c, 'must be an RFC 3339 time such as 2026-01-10T09:00:00Z');
  },
  t.identity,
), { type: 'string', format: 'date-time' });

const DURATION = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** An ISO 8601 duration: calendar months (years are twelve), and exact milliseconds (weeks, days, times). */
export interface Duration { readonly months: number; readonly ms: number }

export function parseDuration(iso: string): Duration | null {
  const m = DURATION.exec(iso);
  if (!m) return null;
  const [y, mo, w, d, h, mi, s] = m.slice(1).map((x) => (x ? Number(x) : 0)) as number[];
  return { months: y! * 12 + mo!, ms: ((((w! * 7 + d!) * 24 + h!) * 60 + mi!) * 60 + s!) * 1000 };
}

/**
 * The longest duration a declaration may name: a thousand years (Gregorian average months and years).
 * Beyond it a period says "never" in a way no calendar can add (P999999999Y overflowed every date).
 */
export const LONGEST_DURATION_YEARS = 1000;
const AVERAGE_MONTH_MS = 2_629_746_000;
const withinLongest = (d: Duration) => d.months * AVERAGE_MONTH_MS + d.ms <= LONGEST_DURATION_YEARS * 12 * AVERAGE_MONTH_MS;
const DURATION_MESSAGE = `must be an ISO 8601 duration such as PT30M, P6M or P1Y, of at most ${LONGEST_DURATION_YEARS} years`;

/** An ISO 8601 duration such as `PT30M`, `P6M` or `P1Y`, of at most `LONGEST_DURATION_YEARS`. */
export const IsoDuration = withSchema(new t.Type<string, string, unknown>(
  'an ISO 8601 duration such as PT30M, P6M or P1Y',
  (u): u is string => typeof u === 'string' && durationWithinBounds(u),
  (u, c) => (typeof u === 'string' && u.length <= 40 && durationWithinBounds(u) ? t.success(u) : t.failure(u, c, DURATION_MESSAGE)),
  t.identity,
), { type: 'string', pattern: DURATION.source, description: `ISO 8601 duration, at most ${LONGEST_DURATION_YEARS} years` });

/** A duration as the log may hold it: of any length, as accepted until 2026-12-02 (see `RecordedCountryCode`). */
export const RecordedIsoDuration = withSchema(new t.Type<string, string, unknown>(
  'an ISO 8601 duration',
  (u): u is string => typeof u === 'string' && parseDuration(u) !== null,
  (u, c) => (typeof u === 'string' && u.length <= 40 && parseDuration(u) !== null ? t.success(u) : t.failure(u, c, 'must be an ISO 8601 duration such as PT30M, P6M or P1Y')),
  t.identity,
), { type: 'string', pattern: DURATION.source });

function durationWithinBounds(s: string): boolean {
  const d = parseDuration(s);
  return d !== null && withinLongest(d);
}

/** Fixed-width UTC text (always milliseconds), so that stored times compare correctly as text. */
export function sortableInstant(s: string | Date): string {
  if (typeof s !== 'string') return s.toISOString();
  if (s.length === 24 && s.endsWith('Z')) return s;
  if (s.length === 20 && s[19] === 'Z') return `${s.slice(0, 19)}.000Z`;
  return new Date(s).toISOString();
}
