/**
 * Calendar arithmetic on RFC 3339 UTC instants: ISO 8601 durations, where months and years are
 * calendar months clamped to the last day of a shorter month (31 Jan + P1M = 28 Feb, 29 Feb + P1Y =
 * 28 Feb), and weeks, days and times are exact.
 */
const DURATION = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

export interface Duration { readonly months: number; readonly ms: number }

export function parseDuration(iso: string): Duration | null {
  const m = DURATION.exec(iso);
  if (!m) return null;
  const [y, mo, w, d, h, mi, s] = m.slice(1).map((x) => (x ? Number(x) : 0)) as number[];
  return { months: y! * 12 + mo!, ms: ((((w! * 7 + d!) * 24 + h!) * 60 + mi!) * 60 + s!) * 1000 };
}

/** `instant` plus `months` calendar months (clamped to the month's last day), then `ms`. */
export function addToInstant(instant: string | Date, d: Duration): Date {
  const t = new Date(instant);
  if (d.months) {
    const y = t.getUTCFullYear();
    const m = t.getUTCMonth() + d.months;
    const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
    t.setUTCDate(1);
    t.setUTCFullYear(y, m, Math.min(new Date(instant).getUTCDate(), lastDay));
  }
  return new Date(t.getTime() + d.ms);
}

export function addIso(instant: string | Date, iso: string): Date {
  const d = parseDuration(iso);
  if (!d) throw new RangeError(`not an ISO 8601 duration: ${iso}`);
  return addToInstant(instant, d);
}
