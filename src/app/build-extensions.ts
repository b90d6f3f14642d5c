/**
 * Generate + extend for one build (docs/architecture.md, "The data flow of one build", steps 5-6): passing extensions' bin/generate,
 * run-image choice, build.Dockerfiles applied to the builder image, run.Dockerfiles to the run image.
 * Without extensions in the group, the builder and run image are used as they are.
 */
import { ExitCode, KilnError } from '../errors.js';
import type { ImageInfo } from '../ports.js';
import type { ExportRunImage } from '../lifecycle/export/types.js';
import { EXTEND_RECORD_LABEL, encodeExtendRecord } from '../image/extend-record.js';
import { extendImage, type ExtendStep } from '../lifecycle/extend/extend.js';
import { EXTEND_CACHE_LABEL } from '../lifecycle/extend/cache.js';
import { CACHE_LABEL } from '../lifecycle/cache/cache-volume.js';
import { extendStepsFor, runGenerate } from '../lifecycle/generate.js';
import type { TargetVars } from '../lifecycle/container/module-env.js';
import type { PhaseContext } from '../lifecycle/phase-context.js';
import type { GroupMember, PlanFile } from '../cnb/models.js';
import { SESSION_LABEL } from './session-owner.js';
import { targetOf } from './run-image-target.js';
import { fetchRunImage, mirrorNotice } from './run-image-resolve.js';
import type { PhasesInput } from './build-request.js';

export interface ExtensionsResult {
  /** The image bin/build runs in: the extended builder, or the builder. */
  buildImage: ImageInfo;
  runImage: ExportRunImage;
  /** CNB_TARGET_* of the (possibly switched) run image. */
  targetVars: TargetVars;
  /** The working plan after extensions consumed their entries (buildpack.md, "Buildpack Plan (TOML)"; image_extension.md, "Detection"). */
  plan: PlanFile;
  warnings: string[];
  /** Dockerfile builds the daemon ran (0 when every extended image was reused, extend/cache.ts). */
  dockerBuilds: number;
}

export function mirrorsOf(input: Pick<PhasesInput, 'builder'>, image: string): string[] {
  return input.builder.runImages.find((r) => r.image === image)?.mirrors ?? [];
}

export async function runExtensions(ctx: PhaseContext, input: PhasesInput, groupExtensions: GroupMember[], plan: PlanFile): Promise<ExtensionsResult> {
  const plain: ExtensionsResult = {
    buildImage: input.builder.info,
    runImage: { info: input.runImage.info, reference: input.runImage.info.id, image: input.runImage.ref, mirrors: mirrorsOf(input, input.runImage.ref) },
    targetVars: input.runImage.vars,
    plan,
    warnings: [],
    dockerBuilds: 0,
  };
  if (groupExtensions.length === 0) return plain;
  return runWithExtensions(ctx, input, groupExtensions, plan, plain);
}

async function timed<T>(ctx: PhaseContext, phase: string, fn: () => Promise<T>): Promise<T> {
  const start = Date.now();
  ctx.reporter.emit({ type: 'phase-start', phase });
  const out = await fn();
  ctx.reporter.emit({ type: 'phase-end', phase, elapsedMs: Date.now() - start });
  return out;
}

async function inspectOrFail(ctx: PhaseContext, ref: string, what: string): Promise<ImageInfo> {
  const info = await ctx.engine.inspectImage(ref);
  if (info === undefined) {
    throw new KilnError({ action: `inspect ${what} ${ref}`, cause: 'the image does not exist in the Docker daemon', hint: 'build, pull or load it first', exitCode: ExitCode.missingImage });
  }
  return info;
}

/**
 * The extend step labels what it builds with the session labels (or, for reusable images, the caller's
 * labels and the cache key); those must not reach the app image's config, or a later sweep by label
 * would remove the user's image. A reused image may carry another run's values, so keys are dropped.
 */
/** The applied run.Dockerfiles, recorded for `kiln rebase --reextend` (src/image/extend-record.ts). */
function withExtendRecord(info: ImageInfo, steps: ExtendStep[]): ImageInfo {
  return { ...info, config: { ...info.config, labels: { ...info.config.labels, [EXTEND_RECORD_LABEL]: encodeExtendRecord(steps) } } };
}

function withoutSessionLabels(info: ImageInfo, session: Readonly<Record<string, string>>): ImageInfo {
  const labels = Object.fromEntries(Object.entries(info.config.labels).filter(([k]) => session[k] === undefined && k !== EXTEND_CACHE_LABEL && k !== CACHE_LABEL));
  return { ...info, config: { ...info.config, labels } };
}

/**
 * Generate (image_extension.md, "Phase: Generation"), then the build extension on the builder image and the run extension on the
 * (possibly switched) run image (image_extension.md, "Phase: Extension"). A switched run image not in run.toml is recorded without
 * mirrors (platform.md, "Run Image Resolution"); its target replaces the original's for CNB_TARGET_*.
 */
async function runWithExtensions(ctx: PhaseContext, input: PhasesInput, groupExtensions: GroupMember[], plan: PlanFile, plain: ExtensionsResult): Promise<ExtensionsResult> {
  const net = input.req.network !== undefined ? { network: input.req.network } : {};
  // Dockerfile builds get their own network (--extension-network), never the module containers' --network.
  const dockerfiles = { network: input.req.extensionNetwork ?? 'none', allowRemote: input.req.allowDockerfileRemote === true } as const;
  const reuse = { cache: { sessionLabel: SESSION_LABEL, labels: { [CACHE_LABEL]: input.req.image } } };
  let dockerBuilds = 0;
  const gen = await timed(ctx, 'generating', () =>
    runGenerate(ctx, { builder: input.builder, volumes: input.volumes, groupExtensions, plan, platformEnv: input.platformEnv, runImage: { image: input.runImage.ref }, target: input.runImage.vars, ...net, allowDockerfileRemote: dockerfiles.allowRemote }),
  );
  let runInfo = input.runImage.info;
  let targetVars = input.runImage.vars;
  let runRef = input.runImage.ref;
  if (gen.runImage.switched) {
    runRef = gen.runImage.image;
    const found = await fetchRunImage(input.fetcher, runRef, input.builder.runImages, { appImage: input.req.image, userMirrors: input.req.runImageMirrors?.[runRef] ?? [], what: 'run image chosen by an extension' });
    runInfo = found.info;
    targetVars = targetOf(runInfo).vars;
    const by = gen.extensions.find((e) => !e.ignored && e.run?.switchesTo?.trim() === runRef)?.id;
    ctx.reporter.emit({ type: 'info', message: `Run image switched to ${runRef}${by !== undefined ? ` by ${by}` : ''}` });
    if (found.name !== runRef) ctx.reporter.emit({ type: 'info', message: mirrorNotice(runRef, found.name, input.req.image, input.fetcher.policy) });
  }
  let buildImage = plain.buildImage;
  const buildSteps = extendStepsFor(gen, 'build');
  if (buildSteps.length > 0) {
    const r = await timed(ctx, 'extending (build)', () =>
      extendImage(ctx, { kind: 'build', baseImage: input.builder.info.id, steps: buildSteps, app: { volume: input.volumes.app, image: input.builder.info.id }, ...dockerfiles, ...reuse }),
    );
    dockerBuilds += r.dockerBuilds;
    buildImage = await inspectOrFail(ctx, r.imageId, 'extended builder image');
  }
  const runImage: ExportRunImage = { info: runInfo, reference: runInfo.id, image: runRef, mirrors: mirrorsOf(input, runRef) };
  const runSteps = extendStepsFor(gen, 'run');
  if (gen.runImage.extend && runSteps.length > 0) {
    const r = await timed(ctx, 'extending (run)', () =>
      extendImage(ctx, { kind: 'run', baseImage: runInfo.id, steps: runSteps, app: { volume: input.volumes.app, image: input.builder.info.id }, ...dockerfiles, ...reuse }),
    );
    dockerBuilds += r.dockerBuilds;
    runImage.extended = {
      info: withExtendRecord(withoutSessionLabels(await inspectOrFail(ctx, r.imageId, 'extended run image'), ctx.labels), runSteps),
      extensionLayers: r.history.map((h) => ({ diffId: h.diffId, extensionId: h.extensionId, command: h.command })),
      rebasable: r.rebasable,
    };
  }
  return { buildImage, runImage, targetVars, plan: gen.plan, warnings: gen.warnings, dockerBuilds };
}
