/**
 * `kiln build --workspace DIR` (pack's "Location at which to mount the app dir in the build image"): the
 * app is at DIR in module containers and in the image (platform.md, "`<app>`", CNB_APP_DIR). The app
 * volume's content does not depend on it, but its exported layer does (the paths are under DIR), so the
 * cache's record of the app dir's fingerprint -> layer is told apart per workspace. The flag is parsed
 * in cli/commands/build-flags.ts (parseWorkspace).
 */
import type { Fingerprints } from '../lifecycle/cache/steps.js';
import { APP_DIR } from '../lifecycle/phase-context.js';

/** The fingerprints with the app dir's keyed by the workspace when it is not the default. */
export function keyedByWorkspace(fps: Fingerprints, appDir: string | undefined): Fingerprints {
  if (appDir === undefined || appDir === APP_DIR) return fps;
  const app = fps.byPath.get('app');
  if (app === undefined) return fps;
  return { ...fps, byPath: new Map([...fps.byPath, ['app', `${app}@${appDir}`]]) };
}
