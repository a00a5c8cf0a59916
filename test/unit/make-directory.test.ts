import { existsSync, lstatSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDirectory } from '../../src/common/fs/make-directory.js';

describe('making a data directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'pdl-mkdir-'));

  it('makes it and its missing parents with the mode asked, and leaves an existing one be', () => {
    const dir = join(root, 'a', 'b', 'c');
    makeDirectory(dir, 0o700);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(root, 'a')).mode & 0o777).toBe(0o700);
    makeDirectory(dir, 0o700);
  });

  it('fails at once, naming why, where Node\'s recursive mkdir would spin forever (procfs) or mislead', () => {
    // procfs refuses a child with ENOENT though its parent exists: Node's recursive mkdirSync loops there.
    if (existsSync('/proc/self')) expect(() => makeDirectory('/proc/pdl-no-such/data', 0o700)).toThrow(/ENOENT/);
    const link = join(root, 'dangling');
    symlinkSync(join(root, 'unmounted', 'volume'), link);
    expect(() => makeDirectory(join(link, 'data'), 0o700)).toThrow(`${link} is a symbolic link to a directory that does not exist`);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    const file = join(root, 'file');
    writeFileSync(file, '');
    expect(() => makeDirectory(join(file, 'data'), 0o700)).toThrow(/ENOTDIR/);
    // The directory asked for is itself a file: named as such, rather than failing later at the first file opened in it.
    expect(() => makeDirectory(file, 0o700)).toThrow(`${file} is a file, not a directory`);
  });
});
