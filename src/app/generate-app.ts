/**
 * `kiln generate` (issue 20 point 2): detect and generate of a build, and nothing else. It opens the
 * build's session (build-session.ts), runs the build's first steps and its detect step there
 * (session-detect.ts: project.toml groups, `--buildpack` / `--extension`) and the generate
 * phase (lifecycle/generate.ts), and returns what each extension of the chosen group produced
 * (generate-report.ts). No Dockerfile is built; the session's volumes and containers are removed, and
 * so is an ephemeral builder this run had to make.
 */
import type { ContainerEngine, IdSource, Reporter, ResourceLimits } from '../ports.js';
import { EPHEMERAL_BUILDER_LABEL } from '../cnb/labels.js';
import { runGenerate } from '../lifecycle/generate.js';
import { withBuildSession } from './build-session.js';
import { reportDetection } from './detect-step.js';
import { detectInSession, type SessionDetectRequest } from './session-detect.js';
import { generateReport, type GenerateReport } from './generate-report.js';
import type { ImageFetcher } from './image-fetcher.js';
import { fetchRunImage } from './run-image-resolve.js';
import { targetOf } from './run-image-target.js';

/** As for `kiln build`, --buildpack / --extension included (session-detect.ts). */
export interface GenerateRequest extends SessionDetectRequest {
  limits?: ResourceLimits;
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
      const { builder, runRef, runInfo, platformEnv, ctx, detection } = await detectInSession(session, req, {
        reporter: deps.reporter,
        fetcher: deps.fetcher,
        runImage: async (ref, b) => (await fetchRunImage(deps.fetcher, ref, b.runImages, { appImage: req.builder })).info,
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
        ...(runInfo !== undefined ? { target: targetOf(runInfo).vars } : {}),
        ...(req.network !== undefined ? { network: req.network } : {}),
      });
      for (const w of gen.warnings) deps.reporter.emit({ type: 'warning', message: w });
      const switched = gen.runImage.switched ? await deps.engine.inspectImage(gen.runImage.image) : undefined;
      return generateReport(gen, {
        builder: { ref: req.builder, id: builder.info.id, user: `${builder.user.uid}:${builder.user.gid}` },
        run: { ref: runImage, id: runInfo?.id ?? runImage, user: runInfo?.config.user ?? '' },
        ...(switched !== undefined ? { switchedUser: switched.config.user } : {}),
      });
    });
  } finally {
    for (const id of await ephemeralBuilders(deps.engine).catch(() => new Set<string>())) {
      if (!before.has(id)) await deps.engine.removeImage(id, { force: true }).catch(() => undefined);
    }
  }
}
