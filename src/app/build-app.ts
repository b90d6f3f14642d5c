/**
 * The build use case (docs/architecture.md, "The data flow of one build"): labelled volumes, builder read once,
 * detect, generate, extend, build, export — and cleanup of every container, volume and intermediate
 * image of the session in a `finally`, which also runs when the signal aborts (Ctrl-C, SIGTERM).
 */
import { fetchRunImage, mirrorNotice } from './run-image-resolve.js';
import { readFile, stat } from 'node:fs/promises';
import { withDefaultTag } from '../image/image-ref.js';
import { join, resolve } from 'node:path';
import { ExitCode, KilnError } from '../errors.js';
import type { TarFileEntry } from '../image/tar-files.js';
import type { ContainerEngine, IdSource, Labels, Mount, Reporter, ResourceLimits } from '../ports.js';
import type { ExtensionNetwork } from '../lifecycle/extend/extend.js';
import { APP_UPLOAD, appPackOptions, appSourcePackEntries } from '../lifecycle/app-source.js';
import type { Env, TargetVars } from '../lifecycle/container/module-env.js';
import type { RunVolumes } from '../lifecycle/container/module-run.js';
import { APP_DIR, LAYERS_DIR, type PhaseContext } from '../lifecycle/phase-context.js';
import { readBuilder, type BuilderInfo } from '../lifecycle/read-builder.js';
import { createVolumeHost, seedVolumeFromImage, writeToVolumes } from '../lifecycle/container/volume-io.js';
import type { ProjectDescriptor, Target } from '../cnb/models.js';
import { parseProjectDescriptor } from '../cnb/project-descriptor.js';
import { throwOnErrors } from '../cnb/spec-error.js';
import { defaultCacheVolume } from '../lifecycle/cache/cache-volume.js';
import { effectiveLimits } from '../lifecycle/container/module-limits.js';
import { lockCacheVolume } from './build-lock.js';
import { runPhases, type PhasesResult } from './build-phases.js';
import { createImageFetcher, type ImageFetcher } from './image-fetcher.js';
import { checkReuse } from './input-key.js';
import { SESSION_LABEL, sessionLabels } from './session-owner.js';
import { warnAboutDeadSessions } from './dead-sessions.js';

export { SESSION_LABEL };

export interface BuildRequest {
  /** The app image to write. */
  image: string;
  builder: string;
  /** App source directory (default: cwd). */
  path: string;
  /** User platform env (--env-file entries first, --env after, later wins). */
  env: Env;
  runImage?: string;
  defaultProcess?: string;
  /** project.toml path (default <path>/project.toml when it exists). */
  descriptor?: string;
  network?: string;
  /**
   * Network of Dockerfile RUN steps (--extension-network, default 'none'); 'host' only after the CLI
   * checked that it gives no path to the daemon's API (docker/api-exposure.ts).
   */
  extensionNetwork?: ExtensionNetwork;
  /** ADD <url> and COPY --from= allowed in extension Dockerfiles (--allow-dockerfile-remote). */
  allowDockerfileRemote?: boolean;
  /** --volume mounts for module containers. */
  volumes: Mount[];
  /** Extra labels on every resource of the session (e.g. the test label). */
  labels?: Labels;
  /** Per-run limit for each module container (detect, generate, build), in seconds (--timeout). */
  timeoutSeconds?: number;
  /** Cache volume name (--cache-volume); default kiln-cache-<sha256(image)[:12]> (lifecycle/cache/cache-volume.ts). */
  cacheVolume?: string;
  /** Start with an empty cache volume and without this app's cached extended images (--clear-cache). */
  clearCache?: boolean;
  /** Run image -> mirrors the user configured (`kiln config run-image-mirrors`), tried before run.toml's. */
  runImageMirrors?: Record<string, string[]>;
  /** Never reuse the previous image, even when every input is unchanged (--no-reuse; app/input-key.ts). */
  noReuse?: boolean;
  /** pids / memory limits of module containers and Dockerfile builds; unset: the defaults (module-limits.ts). */
  limits?: ResourceLimits;
  /** How many bin/detect runs go at once (default: lifecycle/detect.ts). */
  detectParallel?: number;
}

export interface BuildDeps {
  engine: ContainerEngine;
  reporter: Reporter;
  ids: IdSource;
  signal?: AbortSignal;
  /** Pulls under the pull policy (image-fetcher.ts); default: never pull. */
  fetcher?: ImageFetcher;
}

export interface BuildOutcome extends PhasesResult {
  sessionId: string;
}

/** The app source must be a directory; checked before any resource exists (bad-input matrix). */
async function checkAppDir(path: string): Promise<void> {
  const dir = resolve(path);
  const st = await stat(dir).catch((e: unknown) => {
    throw new KilnError({ action: `read the app source ${dir}`, cause: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message, hint: 'pass the app directory with --path', exitCode: ExitCode.config, subject: dir, original: e });
  });
  if (!st.isDirectory()) throw new KilnError({ action: `read the app source ${dir}`, cause: 'it is not a directory', hint: 'pass the app directory with --path', exitCode: ExitCode.config, subject: dir });
}

export async function readProject(req: Pick<BuildRequest, 'descriptor' | 'path'>): Promise<ProjectDescriptor | undefined> {
  const file = req.descriptor !== undefined ? resolve(req.descriptor) : join(resolve(req.path), 'project.toml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (req.descriptor === undefined && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KilnError({ action: `read ${file}`, cause: (e as Error).message, exitCode: ExitCode.config, original: e });
  }
  return throwOnErrors(parseProjectDescriptor(text, file), `read ${file}`);
}

/** /platform/env/<NAME> files (buildpack.md, "Environment Variable Modification Rules"), root-owned and read-only for modules. */
function platformEnvEntries(env: Env): TarFileEntry[] {
  const entries: TarFileEntry[] = [{ path: 'env', type: 'directory', mode: 0o755 }];
  for (const [k, v] of Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1))) entries.push({ path: `env/${k}`, content: v, mode: 0o644 });
  return entries;
}

/** The run image's target from its config and distro labels (buildpack.md, "Targets" CNB_TARGET_*; platform.md, "Target Data"). */
export function targetOf(info: { os: string; architecture: string; variant?: string; config: { labels: Labels } }): { vars: TargetVars; target: Target } {
  const name = info.config.labels['io.buildpacks.base.distro.name'] ?? '';
  const version = info.config.labels['io.buildpacks.base.distro.version'] ?? '';
  const vars: TargetVars = { os: info.os, arch: info.architecture, ...(info.variant ? { variant: info.variant } : {}), ...(name ? { distroName: name } : {}), ...(version ? { distroVersion: version } : {}) };
  const target: Target = { os: info.os, arch: info.architecture, variant: info.variant ?? '', distros: name !== '' ? [{ name, version }] : [] };
  return { vars, target };
}

function validateEnvNames(env: Env): void {
  for (const k of Object.keys(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
      throw new KilnError({ action: 'read --env', cause: `"${k}" is not a valid environment variable name`, exitCode: ExitCode.usage });
    }
  }
}

/** Waits for every promise; then rethrows the first failure (none is left running). */
async function settled(promises: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/**
 * A `--volume NAME:/path` whose volume does not exist yet would be made by the daemon on first use,
 * unlabelled, and left behind (issue 14). kiln makes it itself with the session's labels, so the build's
 * cleanup removes it; a volume that already exists is the user's and is kept.
 */
async function createMissingVolume(engine: ContainerEngine, name: string, labels: Labels): Promise<void> {
  if (!(await engine.volumeExists(name))) await engine.createVolume(name, labels);
}

/** Removes every container, image (but keepImages) and volume of a session (also used by `kiln prune`). */
export async function cleanup(engine: ContainerEngine, session: string, keepImages: Set<string>, volumes: string[], reporter: Reporter): Promise<void> {
  const filter = { labels: [`${SESSION_LABEL}=${session}`] };
  const errors: unknown[] = [];
  const attempt = async (fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      errors.push(e);
    }
  };
  await attempt(async () => {
    for (const id of await engine.listContainers(filter)) await attempt(() => engine.removeContainer(id));
  });
  await attempt(async () => {
    // Children before parents: retry while that makes progress.
    let images = (await engine.listImages(filter)).filter((id) => !keepImages.has(id));
    for (let round = 0; round < 5 && images.length > 0; round++) {
      const left: string[] = [];
      for (const id of images) {
        try {
          await engine.removeImage(id, { force: true });
        } catch {
          left.push(id);
        }
      }
      if (left.length === images.length) break;
      images = left;
    }
  });
  await Promise.all(volumes.map((v) => attempt(() => engine.removeVolume(v))));
  await attempt(async () => {
    for (const v of await engine.listVolumes(filter)) await attempt(() => engine.removeVolume(v));
  });
  if (errors.length > 0) reporter.emit({ type: 'warning', message: `cleanup left ${errors.length} problem(s); remove leftovers with label ${SESSION_LABEL}=${session}` });
}

export async function buildApp(deps: BuildDeps, request: BuildRequest): Promise<BuildOutcome> {
  validateEnvNames(request.env);
  await checkAppDir(request.path);
  const req: BuildRequest = { ...request, image: withDefaultTag(request.image) };
  const sessionId = deps.ids.newId();
  const labels: Labels = { ...(req.labels ?? {}), ...sessionLabels(sessionId) };
  const ctx: PhaseContext = { engine: deps.engine, reporter: deps.reporter, labels, ids: deps.ids, ...(deps.signal !== undefined ? { signal: deps.signal } : {}), ...(req.timeoutSeconds !== undefined ? { moduleTimeoutMs: req.timeoutSeconds * 1000 } : {}), moduleLimits: effectiveLimits(req.limits) };
  const volumes: RunVolumes = {
    app: `kiln-${sessionId}-app`,
    layers: `kiln-${sessionId}-layers`,
    platform: `kiln-${sessionId}-platform`,
    scratch: `kiln-${sessionId}-scratch`,
    extra: req.volumes,
  };
  // Before anything is created: a second build of the same cache volume fails here (build-lock.ts).
  const lock = lockCacheVolume(req.cacheVolume ?? defaultCacheVolume(req.image), req.image);
  const keepImages = new Set<string>();
  let reused = false;
  // Alongside the build: what dead kiln runs left behind is pointed out (kiln prune removes it).
  const leftoverCheck = warnAboutDeadSessions(deps.engine, deps.reporter, req.labels).catch(() => undefined);
  try {
    const project = await readProject(req);
    const fetcher = deps.fetcher ?? createImageFetcher({ engine: deps.engine, reporter: deps.reporter, policy: 'never' });
    await fetcher.ensure(req.builder, 'builder');
    const builder: BuilderInfo = await readBuilder(ctx, req.builder);
    const runImageRef = req.runImage ?? builder.runImages[0]?.image;
    if (runImageRef === undefined) {
      throw new KilnError({ action: 'choose the run image', cause: `builder ${req.builder} names no run image`, hint: 'pass --run-image', exitCode: ExitCode.config });
    }
    // The run.toml image, else a mirror (platform.md "Run Image Resolution"), pulled under the policy;
    // the record keeps the run.toml image's name (runImage.ref) and the image used is runInfo.
    const { name: runFound, info: runInfo } = await fetchRunImage(fetcher, runImageRef, builder.runImages, { appImage: req.image, userMirrors: req.runImageMirrors?.[runImageRef] ?? [] });
    if (runFound !== runImageRef) deps.reporter.emit({ type: 'info', message: mirrorNotice(runImageRef, runFound, req.image, fetcher.policy) });
    // project.toml build env first; --env/--env-file win (pack's order).
    const platformEnv: Env = { ...Object.fromEntries((project?.buildEnv ?? []).map((e) => [e.name, e.value])), ...req.env };
    // Unchanged inputs: the previous image stands, nothing is created (input-key.ts).
    const reuse = await checkReuse(deps.engine, deps.reporter, { req, builderId: builder.info.id, runImage: { ref: runImageRef, id: runInfo.id }, project, platformEnv, cacheVolume: req.cacheVolume ?? defaultCacheVolume(req.image) });
    if (reuse.reused !== undefined) {
      reused = true;
      return { sessionId, ...reuse.reused };
    }

    // Independent setup steps run concurrently, and alongside analyze (issue 5: rebuild time); allSettled
    // so that nothing is still creating containers when a failure sends us to cleanup.
    const setup = async (): Promise<void> => {
      await settled([
        ...[volumes.app, volumes.layers, volumes.platform, volumes.scratch].map((v) => deps.engine.createVolume(v, labels)),
        ...req.volumes.filter((m) => m.type === 'volume').map((m) => createMissingVolume(deps.engine, m.source, labels)),
      ]);
      // One kept container mounts the volumes for every copy in or out (volume-io.ts VolumeHost); creating
      // it gives the app and layers volumes the CNB-user-owned /workspace and /layers of the builder. The
      // scratch volume takes /layers' ownership through a seed helper of its own (a volume is seeded by
      // whichever container first mounts it over an image directory, in either order).
      const hostCreated = createVolumeHost(ctx, builder.info.id, [
        { volume: volumes.app, target: APP_DIR },
        { volume: volumes.layers, target: LAYERS_DIR },
        { volume: volumes.platform, target: '/kiln-volumes/platform' },
        // Not an image path, so this mount does not seed it: the seed helper below does.
        { volume: volumes.scratch, target: '/kiln-volumes/scratch' },
      ]);
      await settled([hostCreated, seedVolumeFromImage(ctx, { volume: volumes.scratch, image: builder.info.id, path: LAYERS_DIR })]);
      ctx.volumeHost = await hostCreated;
      // The platform env and the app go in with one archive request, the app's files read as it is sent.
      await writeToVolumes(
        ctx,
        [
          { volume: volumes.platform, image: builder.info.id, entries: platformEnvEntries(platformEnv) },
          { volume: volumes.app, image: builder.info.id, entries: appSourcePackEntries(resolve(req.path), builder.user, project?.include ?? [], project?.exclude ?? []) },
        ],
        { show: APP_UPLOAD, pack: appPackOptions() },
      );
    };
    const result = await runPhases(
      ctx,
      {
        req,
        builder,
        project,
        volumes,
        platformEnv,
        runImage: { ref: runImageRef, info: runInfo, ...targetOf(runInfo) },
        keepImage: (id) => keepImages.add(id),
        fetcher,
        ...(reuse.key !== undefined ? { inputKey: reuse.key } : {}),
      },
      setup(),
    );
    return { sessionId, ...result };
  } finally {
    // A reused image created nothing to clean up.
    if (!reused) await cleanup(deps.engine, sessionId, keepImages, [volumes.app, volumes.layers, volumes.platform, volumes.scratch], deps.reporter);
    lock.release();
    await leftoverCheck;
  }
}
