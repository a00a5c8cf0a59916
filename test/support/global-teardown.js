import { rmSync } from 'node:fs';

/** Removes the run's temporary directory (`global-setup.js`), unless `PDL_KEEP_TEST_DIRS` asks to keep it for a look. */
export default function globalTeardown() {
  const root = process.env.PDL_TEST_ROOT;
  if (!root) return;
  if (process.env.PDL_KEEP_TEST_DIRS) console.log(`test directories kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
