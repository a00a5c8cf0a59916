/** Distinct keys remembered at most; past it they are forgotten, and the next of each is said again. */
const KEYS = 100;

/**
 * Says the first of a run of like happenings (same `key`), then at most one every `everyMs`, each with
 * how many were kept quiet since the last said: a store refusing every request while its disk is full
 * wrote one log line per commit (192 in a second here), which buries what else the log says. What was
 * refused is counted in the metrics still (HTTP and gRPC answers by status).
 */
export function throttled(everyMs: number, say: (key: string, quietSince: number) => void, now: () => number = Date.now): (key: string) => void {
  const last = new Map<string, { at: number; quiet: number }>();
  return (key) => {
    const t = now();
    const seen = last.get(key);
    if (seen && t - seen.at < everyMs) { seen.quiet++; return; }
    if (!seen && last.size >= KEYS) last.clear();
    say(key, seen?.quiet ?? 0);
    last.set(key, { at: t, quiet: 0 });
  };
}
