/**
 * Running one module executable (bin/detect, bin/build) in a container of the builder (or extended
 * builder) image through the port (architecture.md, Docker use 1): as the CNB user, network 'none'
 * unless asked, cwd <app>, the app/layers/platform/scratch volumes mounted, and exactly the env computed
 * by module-env/build-env (image variables outside it are unset with `env -u`).
 */
import type { Mount, OutputStream } from '../ports.js';
import { moduleCommand, type Env } from './module-env.js';
import { APP_DIR, LAYERS_DIR, PLATFORM_DIR, type BuildVolumes, type CnbUser, type PhaseContext } from './phase-context.js';

/** Where the per-build scratch volume (plan files handed to modules) is mounted. */
export const SCRATCH_DIR = '/kiln';

export interface RunVolumes extends BuildVolumes {
  /** Scratch volume for plan files (writable by the CNB user). */
  scratch: string;
  /** The user's --volume mounts. */
  extra?: Mount[];
}

export interface ModuleRunSpec {
  /** Image id or reference to run in. */
  image: string;
  /** That image's ENV ("K=V"), to unset what the module must not see. */
  imageEnv: readonly string[];
  user: CnbUser;
  volumes: RunVolumes;
  env: Env;
  exe: string;
  args: readonly string[];
  network?: string;
  /** Mount /layers read-only (detect does not write there). */
  layersReadOnly?: boolean;
  onLine?: (stream: OutputStream, line: string) => void;
}

export function moduleMounts(v: RunVolumes, layersReadOnly = false): Mount[] {
  return [
    { type: 'volume', source: v.app, target: APP_DIR },
    { type: 'volume', source: v.layers, target: LAYERS_DIR, readOnly: layersReadOnly },
    { type: 'volume', source: v.platform, target: PLATFORM_DIR, readOnly: true },
    { type: 'volume', source: v.scratch, target: SCRATCH_DIR },
    ...(v.extra ?? []),
  ];
}

/** Runs the module; resolves with its exit code. */
export async function runModule(ctx: PhaseContext, spec: ModuleRunSpec): Promise<number> {
  const { exitCode } = await ctx.engine.runContainer({
    image: spec.image,
    cmd: moduleCommand(spec.imageEnv, spec.env, spec.exe, spec.args),
    user: `${spec.user.uid}:${spec.user.gid}`,
    env: spec.env,
    workingDir: APP_DIR,
    mounts: moduleMounts(spec.volumes, spec.layersReadOnly ?? false),
    network: spec.network ?? 'none',
    labels: ctx.labels,
    ...(spec.onLine !== undefined ? { onLine: spec.onLine } : {}),
    ...(ctx.signal !== undefined ? { signal: ctx.signal } : {}),
    ...(ctx.moduleTimeoutMs !== undefined ? { timeoutMs: ctx.moduleTimeoutMs } : {}),
  });
  return exitCode;
}
