/**
 * kiln's own helper containers (never a module: docs/architecture.md, "The one big decision", uses 2
 * and 4), made in one place: the session's labels, network 'none', root unless a user is given, and for
 * a run a fixed shell script whose every name or path is a positional parameter (sh-script.ts). Two
 * kinds: a container that is only created (never started) to copy files in or out through the archive
 * endpoints, and a script run (cache steps, fingerprints, the copy of a big layer before a commit).
 */
import type { Mount, OutputStream, RunResult } from '../../ports.js';
import { shArgv, type ShScript } from './sh-script.js';
import type { PhaseContext } from '../phase-context.js';

const ROOT = '0:0';

export interface HelperContainer {
  image: string;
  mounts?: Mount[];
  /** "uid:gid"; root when unset. */
  user?: string;
}

/** A created, never started helper container (archive copies); the caller removes it. */
export function createHelperContainer(ctx: PhaseContext, h: HelperContainer): Promise<string> {
  return ctx.engine.createContainer({ image: h.image, cmd: ['true'], user: h.user ?? ROOT, ...(h.mounts !== undefined ? { mounts: h.mounts } : {}), labels: ctx.labels });
}

export interface HelperRun extends HelperContainer {
  script: ShScript;
  /** The script's $0, named in sh's own errors (kiln-cache, kiln-commit ...). */
  name: string;
  workingDir?: string;
  /** Only CPU that others leave idle (runs alongside the build). */
  lowPriority?: boolean;
  /** Commit the container's changes into an image when the script exits 0 (RunSpec.commit). */
  commit?: boolean;
  /** Stops the run; the build's own signal (ctx.signal) when unset. */
  signal?: AbortSignal;
  onLine?: (stream: OutputStream, line: string) => void;
}

/** Runs a helper script to its end in a container of its own, which is removed in every case. */
export function runHelper(ctx: PhaseContext, h: HelperRun): Promise<RunResult> {
  const signal = h.signal ?? ctx.signal;
  return ctx.engine.runContainer({
    image: h.image,
    cmd: shArgv(h.script, h.name),
    user: h.user ?? ROOT,
    ...(h.workingDir !== undefined ? { workingDir: h.workingDir } : {}),
    mounts: h.mounts ?? [],
    network: 'none',
    labels: ctx.labels,
    ...(h.lowPriority === true ? { lowPriority: true } : {}),
    ...(h.commit === true ? { commit: true } : {}),
    ...(h.onLine !== undefined ? { onLine: h.onLine } : {}),
    ...(signal !== undefined ? { signal } : {}),
  });
}
