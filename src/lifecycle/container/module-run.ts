/**
 * Running one module executable (bin/detect, bin/build) in a container of the builder (or extended
 * builder) image through the port (docs/architecture.md, "The one big decision: the lifecycle runs on the host", use 1): as the CNB user, network 'none'
 * unless asked, cwd <app>, the app/layers/platform/scratch volumes mounted, and exactly the env computed
 * by module-env/build-env (image variables outside it are unset with `env -u`).
 */
import type { Mount, OutputStream } from '../../ports.js';
import { makeTar, withParentDirs, type TarFileEntry } from '../../image/tar-files.js';
import { ExitCode } from '../../errors.js';
import { moduleCommand, type Env, type Prelude } from './module-env.js';
import { moduleKilledError } from './module-limits.js';
import { APP_DIR, LAYERS_DIR, PLATFORM_DIR, type BuildVolumes, type CnbUser, type PhaseContext } from '../phase-context.js';
import type { ModuleHosts } from './module-hosts.js';
import { writeToVolume } from './volume-io.js';

/** Where the per-build scratch volume (plan files handed to modules) is mounted. */
export const SCRATCH_DIR = '/kiln';

export interface RunVolumes extends BuildVolumes {
  /** Scratch volume for plan files (writable by the CNB user). */
  scratch: string;
  /** The user's --volume mounts. */
  extra?: Mount[];
  /** Where module containers see the app volume and start (--workspace); default APP_DIR. */
  appDir?: string;
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
  /** Mount the app read-only (generate must not write there, image_extension.md, "Generation"). */
  appReadOnly?: boolean;
  /** Dirs and files (plan files) the container creates before the module starts (module-env.ts). */
  prelude?: Prelude;
  onLine?: (stream: OutputStream, line: string) => void;
  /**
   * The module this run is of, for messages ("buildpack kiln-test/x@1.0.0"), and the exit code when a
   * limit ends the run (the phase's: detect 21, generate 91, build 51).
   */
  module?: { label: string; failExitCode: number; answerCodes?: number[] };
  /** The phase's kept containers (module-hosts.ts); without them the module gets a container of its own. */
  hosts?: ModuleHosts;
}

export function moduleMounts(v: RunVolumes, layersReadOnly = false, appReadOnly = false): Mount[] {
  return [
    { type: 'volume', source: v.app, target: v.appDir ?? APP_DIR, ...(appReadOnly ? { readOnly: true } : {}) },
    { type: 'volume', source: v.layers, target: LAYERS_DIR, readOnly: layersReadOnly },
    { type: 'volume', source: v.platform, target: PLATFORM_DIR, readOnly: true },
    { type: 'volume', source: v.scratch, target: SCRATCH_DIR },
    ...(v.extra ?? []),
  ];
}

/** Prelude files above this size go through the archive API instead (an argument is limited to 128 KiB). */
const INLINE_MAX = 32 * 1024;

/**
 * Writes the prelude's large files under SCRATCH_DIR into the scratch volume (owned by the CNB user, as
 * the prelude would have made them) and returns the rest of the prelude.
 */
export async function inlinePrelude(ctx: PhaseContext, spec: Pick<ModuleRunSpec, 'image' | 'user' | 'volumes' | 'prelude'>): Promise<Prelude | undefined> {
  const p = spec.prelude;
  if (p === undefined) return undefined;
  const large = p.files.filter((f) => Buffer.byteLength(f.content) > INLINE_MAX && f.path.startsWith(`${SCRATCH_DIR}/`));
  if (large.length === 0) return p;
  const { uid, gid } = spec.user;
  const entries = withParentDirs(
    large.map((f): TarFileEntry => ({ path: f.path.slice(SCRATCH_DIR.length + 1), content: f.content, mode: f.mode, uid, gid })),
    { uid, gid },
  );
  await writeToVolume(ctx, { volume: spec.volumes.scratch, image: spec.image, dest: '/', tar: await makeTar(entries) });
  return { dirs: p.dirs, files: p.files.filter((f) => !large.includes(f)) };
}

/**
 * Runs the module; resolves with its exit code. Errors name the module's executable (and id), never the
 * shell prelude kiln wraps it in; a run that ended on a pids or memory limit is reported as such.
 */
export async function runModule(ctx: PhaseContext, spec: ModuleRunSpec): Promise<number> {
  const prelude = await inlinePrelude(ctx, spec);
  const name = spec.module !== undefined ? `${spec.exe} (${spec.module.label})` : spec.exe;
  const container = {
    image: spec.image,
    user: `${spec.user.uid}:${spec.user.gid}`,
    mounts: moduleMounts(spec.volumes, spec.layersReadOnly ?? false, spec.appReadOnly ?? false),
    network: spec.network ?? 'none',
    labels: ctx.labels,
    ...(ctx.moduleLimits !== undefined ? { limits: ctx.moduleLimits } : {}),
  };
  const run = {
    name,
    ...(spec.module?.answerCodes !== undefined ? { answerCodes: spec.module.answerCodes } : {}),
    cmd: moduleCommand(spec.imageEnv, spec.env, spec.exe, spec.args, prelude, { kept: spec.hosts !== undefined }),
    user: container.user,
    env: spec.env,
    workingDir: spec.volumes.appDir ?? APP_DIR,
    ...(spec.onLine !== undefined ? { onLine: spec.onLine } : {}),
    ...(ctx.signal !== undefined ? { signal: ctx.signal } : {}),
    ...(ctx.moduleTimeoutMs !== undefined ? { timeoutMs: ctx.moduleTimeoutMs } : {}),
    ...(ctx.moduleLimits !== undefined ? { limits: ctx.moduleLimits } : {}),
  };
  const { exitCode, killed } = spec.hosts !== undefined ? await spec.hosts.run(container, run) : await ctx.engine.runContainer({ ...container, ...run });
  if (killed !== undefined) throw moduleKilledError(name, killed, ctx.moduleLimits ?? {}, spec.module?.failExitCode ?? ExitCode.generic);
  return exitCode;
}
