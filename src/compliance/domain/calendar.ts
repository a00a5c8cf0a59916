/**
 * Calendar arithmetic on RFC 3339 UTC instants: ISO 8601 durations, where months and years are
 * calendar months clamped to the last day of a shorter month (31 Jan + P1M = 28 Feb, 29 Feb + P1Y =
 * 28 Feb), and weeks, days and times are exact.
 */
import { type Duration, parseDuration } from '../../common/kernel/time.js';

/**
 * The last instant RFC 3339 can write (a four-digit year). A sum beyond it is that instant: a deadline
 * no date given to the ledger can pass, written as a time every reader can parse and compare as text
 * (a later year would print as `+010000-…`, and a sum beyond JavaScript's dates as no date at all).
 */
export const LAST_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** `instant` plus `months` calendar months (clamped to the month's last day), then `ms`; at most `LAST_INSTANT_MS`. */
export function addToInstant(instant: string | Date, d: Duration): Date {
  const t = new Date(instant);
  if (d.months) {
    const y = t.getUTCFullYear();
    const m = t.getUTCMonth() + d.months;
    const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
    t.setUTCDate(1);
    t.setUTCFullYear(y, m, Math.min(new Date(instant).getUTCDate(), lastDay));
  }
  const sum = t.getTime() + d.ms;
  return new Date(Number.isNaN(sum) || sum > LAST_INSTANT_MS ? LAST_INSTANT_MS : sum);
}

export function addIso(instant: string | Date, iso: string): Date {
  const d = parseDuration(iso);
  if (!d) throw new RangeError(`not an ISO 8601 duration: ${iso}`);
  return addToInstant(instant, d);
}
