import { existsSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Makes `dir` and its missing parents (each with `mode`), one level at a time. Node's own recursive
 * `mkdirSync` never returns where a parent exists but refuses children with ENOENT (under `/proc`, a
 * stale mount): it makes the parent again and retries, forever, the process spinning with no output.
 * Here each level is made once, so any refusal is thrown; a dangling symbolic link is named as such.
 */
export function makeDirectory(dir: string, mode: number): void {
  // Already there: a directory is all it may be (else every file opened in it failed with a bare ENOTDIR).
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`${resolve(dir)} is a file, not a directory`);
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    // There (through symbolic links), whatever it is: a file makes the level under it fail with ENOTDIR, as it should.
    if (existsSync(d)) break;
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d, { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && lstatSync(d).isSymbolicLink()) throw new Error(`${d} is a symbolic link to a directory that does not exist`);
      throw e;
    }
  }
}
