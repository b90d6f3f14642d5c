/**
 * `kiln build --watch [--run [--port N]]` (issue 20 point 5; README "For buildpack and extension
 * authors"): the build of build.ts, again whenever the app or a --buildpack / --extension directory
 * changes (app/watch-loop.ts), and with --run a container of each new image on the host network
 * (app/app-container.ts), its output shown as `[app]` lines. Ctrl-C ends the loop after the build in
 * flight and the container are removed. Loaded only when --watch is given.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ExitCode, isKilnError, KilnError } from '../../errors.js';
import type { ContainerEngine, Reporter } from '../../ports.js';
import type { BuildRequest } from '../../app/build-request.js';
import { startAppContainer } from '../../app/app-container.js';
import { sessionLabels } from '../../app/session-owner.js';
import { watchLoop } from '../../app/watch-loop.js';
import { refuseExposedHostNetwork } from '../network-flags.js';

export interface WatchInput {
  engine: ContainerEngine;
  reporter: Reporter;
  signal: AbortSignal;
  once(signal: AbortSignal): Promise<string>;
  req: BuildRequest;
  flags: { run?: boolean; port?: string };
  newId(): string;
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The app directory and every module flag that names a directory. */
export function watchedDirs(req: Pick<BuildRequest, 'path' | 'modules'>): string[] {
  const m = req.modules ?? {};
  const modules = [...(m.buildpacks ?? []), ...(m.extensions ?? []), ...(m.preBuildpacks ?? []), ...(m.postBuildpacks ?? [])].filter(isDir);
  return [...new Set([req.path, ...modules].map((d) => resolve(d)))];
}

export function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
    throw new KilnError({ action: 'read --port', cause: `"${value}" is not a port (1-65535)`, exitCode: ExitCode.usage, subject: '--port' });
  }
  return Number(value);
}

export async function watchBuild(w: WatchInput): Promise<void> {
  const port = parsePort(w.flags.port);
  // The app container shares the host's network: refused where that reaches the daemon's API (docker/api-exposure.ts).
  if (w.flags.run === true) await refuseExposedHostNetwork({ '--run': 'host' });
  const dirs = watchedDirs(w.req);
  w.reporter.emit({ type: 'info', message: `watching ${dirs.join(', ')} (Ctrl-C stops)` });
  const labels = { ...(w.req.labels ?? {}), ...sessionLabels(w.newId()) };
  await watchLoop(dirs, w.signal, {
    build: (signal) => w.once(signal),
    ...(w.flags.run === true
      ? {
          runApp: async (image: string) => {
            w.reporter.emit({ type: 'info', message: `running ${image.slice(0, 19)} on the host network${port !== undefined ? ` with PORT=${port}` : ''}` });
            return startAppContainer(w.engine, image, {
              labels,
              ...(port !== undefined ? { port } : {}),
              onLine: (stream, line) => w.reporter.emit({ type: 'module-line', module: 'app', stream, line }),
              onExit: (code) => w.reporter.emit({ type: 'info', message: `the app exited with code ${code}; it starts again after the next build` }),
            });
          },
        }
      : {}),
    onBuildError: (e) => {
      const why = isKilnError(e) ? `${e.message}${e.hint !== undefined ? ` (${e.hint})` : ''}` : e instanceof Error ? e.message : String(e);
      w.reporter.emit({ type: 'warning', message: `the build failed: ${why}; waiting for a change` });
    },
    onChange: (paths) => w.reporter.emit({ type: 'info', message: `changed: ${paths.slice(0, 3).join(', ')}${paths.length > 3 ? ` and ${paths.length - 3} more` : ''}; building again` }),
  });
}
