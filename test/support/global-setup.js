import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One temporary directory for the whole run: every test's data directories, and whatever the ledgers it
 * starts write to their temporary directory, go under it (`TMPDIR`, which the test workers and their
 * children inherit), and `global-teardown.js` removes it. Each run left ~170 directories and ~400 MB
 * in /tmp before.
 */
export default function globalSetup() {
  const root = mkdtempSync(join(tmpdir(), 'pdl-tests-'));
  process.env.PDL_TEST_ROOT = root;
  process.env.TMPDIR = root;
}
