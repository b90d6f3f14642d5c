/**
 * kiln's host cache directory: $KILN_CACHE_DIR, else ~/.cache/kiln. Holds a static busybox
 * (stacks/busybox.ts) and what was read out of builder images (lifecycle/builder-files-cache.ts).
 * Everything in it can be deleted at any time; it is rebuilt on demand.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function kilnCacheDir(...sub: string[]): string {
  const base = process.env.KILN_CACHE_DIR ?? join(homedir(), '.cache', 'kiln');
  return join(base, ...sub);
}
