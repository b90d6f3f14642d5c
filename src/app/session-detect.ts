/**
 * The first steps of a build inside its session, shared by `kiln detect --explain` (detect-app.ts) and
 * `kiln generate` (generate-app.ts): project.toml read as a build reads it (project-input.ts), the
 * builder a build would use (ephemeral-builder.ts: project groups, --buildpack / --extension), the run
 * image's target, the session's volumes prepared with the app, and the build's detect step
 * (detect-step.ts). What differs is how the run image is found: a build and `kiln generate` pull it
 * under the pull policy, `kiln detect` only looks in the daemon.
 */
import type { ImageInfo, Reporter } from '../ports.js';
import type { ProjectDescriptor } from '../cnb/models.js';
import type { Env } from '../lifecycle/container/module-env.js';
import type { PhaseContext } from '../lifecycle/phase-context.js';
import { readBuilder, type BuilderInfo } from '../lifecycle/read-builder.js';
import type { BuildSession } from './build-session.js';
import { detectStep, type Detection } from './detect-step.js';
import { ephemeralBuilder } from './ephemeral-builder.js';
import type { ImageFetcher } from './image-fetcher.js';
import type { ModuleFlags } from './module-choice.js';
import { platformEnvOf, projectFileOf, readProject } from './project-input.js';
import { targetOf } from './run-image-target.js';

export interface SessionDetectRequest {
  builder: string;
  path: string;
  env: Env;
  /** project.toml path (default <path>/project.toml when it exists). */
  descriptor?: string;
  network?: string;
  detectParallel?: number;
  labels?: Record<string, string>;
  /** --buildpack / --extension: modules used instead of the builder's order. */
  modules?: ModuleFlags;
}

export interface SessionDetectOptions {
  reporter: Reporter;
  /** When given, the builder is pulled under its policy first, and modules named by flags may be pulled. */
  fetcher?: ImageFetcher;
  /** The run image named first by the builder, as this command finds it; undefined: targets are not checked. */
  runImage: (ref: string, builder: BuilderInfo) => Promise<ImageInfo | undefined>;
}

export interface SessionDetection {
  project: ProjectDescriptor | undefined;
  builder: BuilderInfo;
  /** The builder's first run image as named there, and what runImage found for it. */
  runRef?: string;
  runInfo?: ImageInfo;
  platformEnv: Env;
  /** The context of the phases that use the session's volumes. */
  ctx: PhaseContext;
  detection: Detection;
}

export async function detectInSession(session: BuildSession, req: SessionDetectRequest, opts: SessionDetectOptions): Promise<SessionDetection> {
  const project = await readProject(req, (message) => opts.reporter.emit({ type: 'warning', message }));
  const pulled = opts.fetcher !== undefined ? await opts.fetcher.ensure(req.builder, 'builder') : undefined;
  const base = await readBuilder(session.ctx, req.builder, pulled);
  const builder = await ephemeralBuilder(session.ctx, base, {
    flags: req.modules ?? {},
    project,
    projectFile: projectFileOf(req),
    cwd: process.cwd(),
    labels: req.labels ?? {},
    ...(opts.fetcher !== undefined ? { fetcher: opts.fetcher } : {}),
  });
  const runRef = builder.runImages[0]?.image;
  const runInfo = runRef !== undefined ? await opts.runImage(runRef, builder) : undefined;
  const platformEnv = platformEnvOf(project, req.env);
  const ctx = await session.prepare({ builderImage: builder.info.id, user: builder.user, platformEnv, appDir: req.path, include: project?.include ?? [], exclude: project?.exclude ?? [] });
  const detection = await detectStep(ctx, {
    builder,
    project,
    volumes: session.volumes,
    platformEnv,
    ...(runInfo !== undefined ? { target: targetOf(runInfo) } : {}),
    ...(req.network !== undefined ? { network: req.network } : {}),
    ...(req.detectParallel !== undefined ? { concurrency: req.detectParallel } : {}),
  });
  return { project, builder, ...(runRef !== undefined ? { runRef } : {}), ...(runInfo !== undefined ? { runInfo } : {}), platformEnv, ctx, detection };
}
