/**
 * The build use case (docs/architecture.md, "The data flow of one build"): the request is checked, a
 * session is opened (build-session.ts: the cache volume's lock, labelled volumes, cleanup of every
 * container, volume and intermediate image in a `finally` that also runs when the signal aborts, Ctrl-C,
 * SIGTERM), the builder is read once, the run image chosen, and the phases run (build-phases.ts) unless
 * the previous image can be reused as it is (input-key.ts).
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fetchRunImage, mirrorNotice } from './run-image-resolve.js';
import { withDefaultTag } from '../image/image-ref.js';
import { ExitCode, KilnError } from '../errors.js';
import type { ContainerEngine, IdSource, Reporter } from '../ports.js';
import type { Env } from '../lifecycle/container/module-env.js';
import { readBuilder, type BuilderInfo } from '../lifecycle/read-builder.js';
import { defaultCacheVolume } from '../lifecycle/cache/cache-volume.js';
import type { BuildRequest } from './build-request.js';
import { withBuildSession } from './build-session.js';
import type { PhasesResult } from './build-phases.js';
import { createImageFetcher, type ImageFetcher } from './image-fetcher.js';
import { checkReuse } from './input-key.js';
import { platformEnvOf, projectFileOf, readProject } from './project-input.js';
import type { EphemeralInput } from './ephemeral-builder.js';
import type { ProjectDescriptor } from '../cnb/models.js';
import { targetOf } from './run-image-target.js';
import { SESSION_LABEL } from './session-owner.js';

export type { BuildRequest } from './build-request.js';
export { cleanup } from './build-session.js';
export { readProject } from './project-input.js';
export { targetOf } from './run-image-target.js';
export { SESSION_LABEL };

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

function validateEnvNames(env: Env): void {
  for (const k of Object.keys(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
      throw new KilnError({ action: 'read --env', cause: `"${k}" is not a valid environment variable name`, exitCode: ExitCode.usage });
    }
  }
}

/** No module flag, no project group and no user change: the builder is used as it is (and ephemeral-builder.ts need not load). */
function addsNothing(req: BuildRequest, project: ProjectDescriptor | undefined): boolean {
  const m = req.modules ?? {};
  const flags = [m.buildpacks, m.extensions, m.preBuildpacks, m.postBuildpacks].some((l) => (l ?? []).length > 0);
  const groups = project !== undefined && (project.group.length > 0 || (project.preGroup ?? []).length > 0 || (project.postGroup ?? []).length > 0);
  return !flags && !groups && req.uid === undefined && req.gid === undefined;
}

function ephemeralInputOf(req: BuildRequest, project: ProjectDescriptor | undefined): EphemeralInput {
  return { flags: req.modules ?? {}, ...(req.uid !== undefined ? { uid: req.uid } : {}), ...(req.gid !== undefined ? { gid: req.gid } : {}), project, projectFile: projectFileOf(req), cwd: process.cwd(), labels: req.labels ?? {} };
}

export async function buildApp(deps: BuildDeps, request: BuildRequest): Promise<BuildOutcome> {
  validateEnvNames(request.env);
  await checkAppDir(request.path);
  const req: BuildRequest = { ...request, image: withDefaultTag(request.image) };
  const cacheVolume = req.cacheVolume ?? defaultCacheVolume(req.image);
  const sessionOptions = {
    ...(req.labels !== undefined ? { labels: req.labels } : {}),
    ...(req.timeoutSeconds !== undefined ? { timeoutSeconds: req.timeoutSeconds } : {}),
    ...(req.limits !== undefined ? { limits: req.limits } : {}),
    // Before anything is created: a second build of the same cache volume fails here (build-lock.ts).
    lock: { cacheVolume, image: req.image },
    extraVolumes: req.volumes,
    ...(req.workspace !== undefined ? { workspace: req.workspace } : {}),
    // Alongside the build: what dead kiln runs left behind is pointed out (kiln prune removes it).
    warnAboutLeftovers: true,
  };
  return withBuildSession(deps, sessionOptions, async (session) => {
    const { ctx } = session;
    const project = await readProject(req, (message) => deps.reporter.emit({ type: 'warning', message }));
    const fetcher = deps.fetcher ?? createImageFetcher({ engine: deps.engine, reporter: deps.reporter, policy: 'never' });
    const builderImage = await fetcher.ensure(req.builder, 'builder');
    // Modules from flags and project.toml, --uid/--gid: the builder of this build (ephemeral-builder.ts).
    const base = await readBuilder(ctx, req.builder, builderImage);
    const builder: BuilderInfo = addsNothing(req, project) ? base : await (await import('./ephemeral-builder.js')).ephemeralBuilder(ctx, base, ephemeralInputOf(req, project));
    const runImageRef = req.runImage ?? builder.runImages[0]?.image;
    if (runImageRef === undefined) {
      throw new KilnError({ action: 'choose the run image', cause: `builder ${req.builder} names no run image`, hint: 'pass --run-image', exitCode: ExitCode.config });
    }
    // The run.toml image, else a mirror (platform.md "Run Image Resolution"), pulled under the policy;
    // the record keeps the run.toml image's name (runImage.ref) and the image used is runInfo.
    const { name: runFound, info: runInfo } = await fetchRunImage(fetcher, runImageRef, builder.runImages, { appImage: req.image, userMirrors: req.runImageMirrors?.[runImageRef] ?? [] });
    if (runFound !== runImageRef) deps.reporter.emit({ type: 'info', message: mirrorNotice(runImageRef, runFound, req.image, fetcher.policy) });
    const platformEnv: Env = platformEnvOf(project, req.env);
    // Unchanged inputs: the previous image stands, nothing is created (input-key.ts).
    const reuse = await checkReuse(deps.engine, deps.reporter, { req, builderId: builder.info.id, runImage: { ref: runImageRef, id: runInfo.id }, project, platformEnv, cacheVolume });
    if (reuse.reused !== undefined) {
      session.createdNothing();
      return { sessionId: session.id, ...reuse.reused };
    }
    // The phases (and the lifecycle behind them) load only when the build runs: a reused image needs none (issue 21).
    const { runPhases } = await import('./build-phases.js');
    const result = await runPhases(session, {
      req,
      builder,
      project,
      volumes: session.volumes,
      platformEnv,
      runImage: { ref: runImageRef, info: runInfo, ...targetOf(runInfo) },
      keepImage: (id) => session.keepImage(id),
      fetcher,
      ...(reuse.key !== undefined ? { inputKey: reuse.key } : {}),
    });
    return { sessionId: session.id, ...result };
  });
}
