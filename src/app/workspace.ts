/**
 * `kiln build --workspace DIR` (pack's "Location at which to mount the app dir in the build image"): the
 * app is at DIR in module containers and in the image (platform.md, "`<app>`", CNB_APP_DIR). The app
 * volume's content does not depend on it, but its exported layer does (the paths are under DIR), so the
 * cache's record of the app dir's fingerprint -> layer is told apart per workspace.
 */
import { posix } from 'node:path';
import { ExitCode, KilnError } from '../errors.js';
import type { Fingerprints } from '../lifecycle/cache/steps.js';
import { APP_DIR, LAYERS_DIR, PLATFORM_DIR } from '../lifecycle/phase-context.js';

/** Paths the app must not be mounted on or under (or above): the lifecycle's own and the system's. */
const RESERVED = [LAYERS_DIR, PLATFORM_DIR, '/cnb', '/bin', '/sbin', '/lib', '/usr', '/etc', '/dev', '/proc', '/sys', '/tmp', '/kiln-volumes'];

/** `--workspace`: an absolute path (a relative one is taken below `/`, as pack), not `/` nor a reserved dir. */
export function parseWorkspace(value: string): string {
  const dir = posix.normalize(posix.join('/', value)).replace(/\/+$/, '');
  const bad = (cause: string): KilnError =>
    new KilnError({ action: 'read --workspace', cause: `"${value}" ${cause}`, hint: 'pick a directory of its own, e.g. --workspace /app', exitCode: ExitCode.usage, subject: '--workspace' });
  if (dir === '' || value.trim() === '') throw bad('is not a directory');
  if (/[\s:,]/.test(dir)) throw bad('must not contain spaces, colons or commas');
  if (RESERVED.some((r) => dir === r || dir.startsWith(`${r}/`) || r.startsWith(`${dir}/`))) throw bad(`is or overlaps a directory the build needs (${RESERVED.join(', ')})`);
  return dir;
}

/** The fingerprints with the app dir's keyed by the workspace when it is not the default. */
export function keyedByWorkspace(fps: Fingerprints, appDir: string | undefined): Fingerprints {
  if (appDir === undefined || appDir === APP_DIR) return fps;
  const app = fps.byPath.get('app');
  if (app === undefined) return fps;
  return { ...fps, byPath: new Map([...fps.byPath, ['app', `${app}@${appDir}`]]) };
}
