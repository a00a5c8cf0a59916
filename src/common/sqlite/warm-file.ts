import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { freemem } from 'node:os';

/** Pages of a file timed to tell whether the page cache holds it (`seemsCached`). */
const SAMPLED_PAGES = 64;
const PAGE = 4096;
/**
 * A page read from the page cache takes a few microseconds; from the disk, ~85 µs at best here (measured
 * on the demo ledger after dropping the caches: median 85 µs cold, 6 µs cached).
 */
const CACHED_READ_US = 40;

/**
 * Reads the file at `path` once, from start to end, so that the operating system's page cache holds it
 * before SQLite reads its pages in whatever order it needs them. A rebuild drops the read models' tables,
 * which visits every page of each in B-tree order: on a cold cache, random reads (measured on the demo
 * ledger of 1.1M events, 1.8 GB: the drops took 13.5 s cold, 0.8 s after this 4.7 s read). Skipped when
 * the file would take more than `share` of the memory available now (its pages would not stay cached),
 * and when the cache seems to hold it already (`cached`: by default, pages spread over the file read
 * fast): reading 1.8 GB that is cached costs ~2.5 s of CPU for nothing, the first seconds of a rebuild
 * run just after the ledger stopped. Answers the bytes read (0: skipped).
 */
export function warmFile(path: string, share = 0.5, available: () => number = freemem, cached: (fd: number, size: number) => boolean = pagesSeemCached): number {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0 || size > available() * share || cached(fd, size)) return 0;
    const chunk = Buffer.allocUnsafe(1 << 20);
    let at = 0;
    for (let n = 1; n > 0 && at < size; at += n) n = readSync(fd, chunk, 0, chunk.length, at);
    return at;
  } finally {
    closeSync(fd);
  }
}

/** Times the reads of pages spread evenly over the file, in microseconds. */
function pageReadTimes(fd: number, size: number): number[] {
  const page = Buffer.allocUnsafe(PAGE);
  const pages = Math.max(1, Math.floor(size / PAGE));
  const step = Math.max(1, Math.floor(pages / SAMPLED_PAGES));
  const times: number[] = [];
  for (let p = 0; p < pages && times.length < SAMPLED_PAGES; p += step) {
    const t = performance.now();
    readSync(fd, page, 0, PAGE, p * PAGE);
    times.push((performance.now() - t) * 1000);
  }
  return times;
}

/** Whether reads this fast came from the page cache: at least 7 of 8 under `CACHED_READ_US` (a busy machine delays a few). */
export const seemsCached = (readMicros: readonly number[]): boolean =>
  readMicros.length > 0 && readMicros.filter((us) => us < CACHED_READ_US).length * 8 >= readMicros.length * 7;

const pagesSeemCached = (fd: number, size: number): boolean => seemsCached(pageReadTimes(fd, size));
