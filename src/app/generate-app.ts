/**
 * `kiln generate` (issue 20 point 2): detect and generate of a build, and nothing else. It opens the
 * build's session (build-session.ts), uses the build's builder (ephemeral-builder.ts: project.toml
 * groups, `--buildpack` / `--extension`), runs the build's detect step (detect-step.ts) and the generate
 * phase (lifecycle/generate.ts), and returns what each extension of the chosen group produced
 * (generate-report.ts). No Dockerfile is built; the session's volumes and containers are removed, and
 * so is an ephemeral builder this run had to make.
 */
import type { ContainerEngine, IdSource, Labels, Reporter, ResourceLimits } from '../ports.js';
import { EPHEMERAL_BUILDER_LABEL } from '../cnb/labels.js';
import type { Env } from '../lifecycle/container/module-env.js';
import { runGenerate } from '../lifecycle/generate.js';
import { readBuilder } from '../lifecycle/read-builder.js';
import { withBuildSession } from './build-session.js';
import { detectStep, reportDetection } from './detect-step.js';
import { ephemeralBuilder } from './ephemeral-builder.js';
import { generateReport, type GenerateReport } from './generate-report.js';
import type { ImageFetcher } from './image-fetcher.js';
import type { ModuleFlags } from './module-choice.js';
import { platformEnvOf, projectFileOf, readProject } from './project-input.js';
import { fetchRunImage } from './run-image-resolve.js';
import { targetOf } from './run-image-target.js';

export interface GenerateRequest {
  builder: string;
  path: string;
  env: Env;
  descriptor?: string;
  network?: string;
  labels?: Labels;
  limits?: ResourceLimits;
  /** --buildpack / --extension: modules used instead of the builder's order (as `kiln build`). */
  modules?: ModuleFlags;
  detectParallel?: number;
}

export interface GenerateDeps {
  engine: ContainerEngine;
  reporter: Reporter;
  ids: IdSource;
  fetcher: ImageFetcher;
  signal?: AbortSignal;
}

/** Ephemeral builders this run made (none existed with that id before): removed at the end. */
async function ephemeralBuilders(engine: ContainerEngine): Promise<Set<string>> {
  return new Set(await engine.listImages({ labels: [EPHEMERAL_BUILDER_LABEL] }));
}

export async function generateOnly(deps: GenerateDeps, req: GenerateRequest): Promise<GenerateReport> {
  const before = await ephemeralBuilders(deps.engine);
  const options = { ...(req.labels !== undefined ? { labels: req.labels } : {}), ...(req.limits !== undefined ? { limits: req.limits } : {}) };
  try {
    return await withBuildSession(deps, options, async (session) => {
      const project = await readProject(req, (message) => deps.reporter.emit({ type: 'warning', message }));
      await deps.fetcher.ensure(req.builder, 'builder');
      const base = await readBuilder(session.ctx, req.builder);
      const builder = await ephemeralBuilder(session.ctx, base, { flags: req.modules ?? {}, project, projectFile: projectFileOf(req), cwd: process.cwd(), labels: req.labels ?? {}, fetcher: deps.fetcher });
      const runRef = builder.runImages[0]?.image;
      const run = runRef !== undefined ? await fetchRunImage(deps.fetcher, runRef, builder.runImages, { appImage: req.builder }) : undefined;
      const platformEnv = platformEnvOf(project, req.env);
      const ctx = await session.prepare({ builderImage: builder.info.id, user: builder.user, platformEnv, appDir: req.path, include: project?.include ?? [], exclude: project?.exclude ?? [] });
      const detection = await detectStep(ctx, {
        builder,
        project,
        volumes: session.volumes,
        platformEnv,
        ...(run !== undefined ? { target: targetOf(run.info) } : {}),
        ...(req.network !== undefined ? { network: req.network } : {}),
        ...(req.detectParallel !== undefined ? { concurrency: req.detectParallel } : {}),
      });
      // A failed detection fails here as a build's would (exit 20/21, with the trace).
      const resolved = reportDetection(deps.reporter, detection);
      const runImage = runRef ?? '';
      const gen = await runGenerate(ctx, {
        builder,
        volumes: session.volumes,
        groupExtensions: resolved.groupExtensions,
        plan: resolved.plan,
        platformEnv,
        runImage: { image: runImage },
        ...(run !== undefined ? { target: targetOf(run.info).vars } : {}),
        ...(req.network !== undefined ? { network: req.network } : {}),
      });
      for (const w of gen.warnings) deps.reporter.emit({ type: 'warning', message: w });
      const switched = gen.runImage.switched ? await deps.engine.inspectImage(gen.runImage.image) : undefined;
      return generateReport(gen, {
        builder: { ref: req.builder, id: builder.info.id, user: `${builder.user.uid}:${builder.user.gid}` },
        run: { ref: runImage, id: run?.info.id ?? runImage, user: run?.info.config.user ?? '' },
        ...(switched !== undefined ? { switchedUser: switched.config.user } : {}),
      });
    });
  } finally {
    for (const id of await ephemeralBuilders(deps.engine).catch(() => new Set<string>())) {
      if (!before.has(id)) await deps.engine.removeImage(id, { force: true }).catch(() => undefined);
    }
  }
}
