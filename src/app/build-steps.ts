/**
 * Each phase of a build as one step function over the phase context (docs/architecture.md, "The data
 * flow of one build", steps 4-8). build-phases.ts says in which order and alongside what they run;
 * `buildSteps` is the table of the real ones (a test passes recording ones, test/unit/app/build-phases.test.ts).
 */
import { keyedByWorkspace } from './workspace.js';
import { analyzePrevious, type Analyzed } from '../lifecycle/analyze.js';
import { runBuild, type BuildResult } from '../lifecycle/build.js';
import { defaultCacheVolume, type CacheMetadata } from '../lifecycle/cache/cache-volume.js';
import { fingerprintDirs, layerPath, openCache, saveCache, startFingerprintProbe, unchangedDirs, type FingerprintProbe, type Fingerprints } from '../lifecycle/cache/steps.js';
import { planRestore, restoreLayers } from '../lifecycle/restore.js';
import { readPreviousLaunchSboms } from '../lifecycle/restore-sbom.js';
import { exportImage } from '../lifecycle/export/export.js';
import type { ExportInput, ExportResult } from '../lifecycle/export/types.js';
import { SCRATCH_DIR } from '../lifecycle/container/module-run.js';
import type { PhaseContext } from '../lifecycle/phase-context.js';
import type { ResolveResult } from '../lifecycle/resolve-order.js';
import type { GroupMember, ProjectDescriptor } from '../cnb/models.js';
import { runExtensions, type ExtensionsResult } from './build-extensions.js';
import type { PhasesInput } from './build-request.js';
import { detectStep, reportDetection } from './detect-step.js';
import { inputKeyLabels } from './input-key.js';

export type Resolved = Extract<ResolveResult, { ok: true }>;

/** Detect as `kiln detect` runs it (detect-step.ts), shown the build's way; fails with exit 20/21. */
async function detect(ctx: PhaseContext, input: PhasesInput): Promise<Resolved> {
  const detection = await detectStep(ctx, {
    builder: input.builder,
    project: input.project,
    volumes: input.volumes,
    platformEnv: input.platformEnv,
    target: { vars: input.runImage.vars, target: input.runImage.target },
    ...(input.req.network !== undefined ? { network: input.req.network } : {}),
    ...(input.req.detectParallel !== undefined ? { concurrency: input.req.detectParallel } : {}),
  });
  return reportDetection(ctx.reporter, detection);
}

/**
 * project-metadata.toml as pack derives it from project.toml: a `source` of type "project" with the
 * declared version, when the project declares one (io.buildpacks.project.metadata, platform.md, "Labels").
 * project.toml's source-url goes into `source.metadata.url`, as pack writes it.
 */
export function projectMetadataOf(project: ProjectDescriptor | undefined): Record<string, unknown> {
  if (project === undefined || (project.version === '' && project.sourceUrl === undefined)) return {};
  return { source: { type: 'project', version: { declared: project.version }, ...(project.sourceUrl !== undefined ? { metadata: { url: project.sourceUrl } } : {}) } };
}

export interface CacheState {
  volume: string;
  previous: Analyzed | undefined;
  meta: CacheMetadata;
  /** The volume was created by this build: removed again when the build fails before saving it. */
  created: boolean;
}

/** Analyze (platform.md, "`analyzer`") and open the cache volume (cache/cache-volume.ts): before detect, as the lifecycle does. */
async function analyze(ctx: PhaseContext, input: PhasesInput): Promise<CacheState> {
  const volume = input.req.cacheVolume ?? defaultCacheVolume(input.req.image);
  const previous = await analyzePrevious(ctx, input.req.previousImage ?? input.req.image);
  const { meta, created } = await openCache(ctx, { volume, image: input.req.image, clear: input.req.clearCache === true, labels: input.req.labels ?? {}, helperImage: input.builder.info.id });
  if (previous !== undefined) ctx.reporter.emit({ type: 'info', message: `Previous image ${input.req.previousImage ?? input.req.image} (${previous.imageId.slice(0, 19)})` });
  ctx.reporter.emit({ type: 'info', message: `Cache volume ${volume}${input.req.clearCache === true ? ' (cleared)' : ''}` });
  return { volume, previous, meta, created };
}

/**
 * Fingerprints for export reuse; a failing helper only costs time (everything is tarred). `lowPriority`
 * runs them with the CPU that others leave idle.
 */
async function fingerprints(ctx: PhaseContext, input: PhasesInput, cache: CacheState, built: BuildResult, lowPriority = false): Promise<Fingerprints> {
  try {
    return await fingerprintDirs(ctx, {
      lowPriority,
      image: input.builder.info.id,
      layers: input.volumes.layers,
      app: input.volumes.app,
      cache: cache.volume,
      built: built.buildpacks.flatMap((bp) => bp.layers.map((l) => ({ buildpackId: bp.id, name: l.name, metadata: l.metadata, hasDir: l.hasDir }))),
    });
  } catch (e) {
    // Stopped (the export failed, or an interrupt): that error is the one to report.
    if (ctx.signal?.aborted === true) return { byPath: new Map() };
    ctx.reporter.emit({ type: 'warning', message: `could not fingerprint layers (${(e as Error).message}); every layer is tarred` });
    return { byPath: new Map() };
  }
}

function exportInputOf(input: PhasesInput, group: GroupMember[], groupExtensions: GroupMember[], ext: ExtensionsResult, built: BuildResult): ExportInput {
  const layerMetadata: ExportInput['layerMetadata'] = {};
  const storeMetadata: ExportInput['storeMetadata'] = {};
  const layerBytes: Record<string, number> = {};
  for (const bp of built.buildpacks) {
    layerMetadata[bp.id] = Object.fromEntries(bp.layers.map((l) => [l.name, l.metadata]));
    for (const l of bp.layers) if (l.bytes !== undefined) layerBytes[layerPath(bp.id, l.name)] = l.bytes;
    if (bp.store !== undefined) storeMetadata[bp.id] = bp.store;
  }
  const sde = process.env.SOURCE_DATE_EPOCH;
  const created = input.req.creationTime ?? (sde !== undefined && /^\d+$/.test(sde) ? new Date(Number(sde) * 1000).toISOString().replace('.000Z', 'Z') : undefined);
  return {
    tags: [input.req.image, ...(input.req.tags ?? []).filter((t) => t !== input.req.image)],
    runImage: ext.runImage,
    user: input.builder.user,
    volumes: { layers: input.volumes.layers, app: input.volumes.app },
    ...(input.req.workspace !== undefined ? { appDir: input.req.workspace } : {}),
    helperImage: input.builder.info.id,
    group,
    groupExtensions,
    layerMetadata,
    layerBytes,
    storeMetadata,
    processes: built.processes,
    ...(built.defaultProcessType !== undefined ? { defaultProcessType: built.defaultProcessType } : {}),
    ...(input.req.defaultProcess !== undefined ? { processTypeOverride: input.req.defaultProcess } : {}),
    labels: built.labels,
    ...(input.inputKey !== undefined ? { platformLabels: inputKeyLabels(input.inputKey, ext.runImage.image !== input.runImage.ref ? { ref: ext.runImage.image, id: ext.runImage.reference } : undefined) } : {}),
    slices: built.slices,
    projectMetadata: projectMetadataOf(input.project),
    ...(created !== undefined ? { created } : {}),
  };
}

/** What the build step hands to export: the build's result and, on a rebuild, the fingerprint probe started with it. */
export interface Built {
  result: BuildResult;
  probe?: FingerprintProbe;
}

/**
 * Restore (platform.md, "`restorer`"): the layers the previous image and the cache volume know come back
 * into /layers.
 */
async function restore(ctx: PhaseContext, input: PhasesInput, group: GroupMember[], cache: CacheState): Promise<void> {
  const sboms = await readPreviousLaunchSboms(ctx, cache.previous);
  await restoreLayers(ctx, { plan: planRestore(group, cache.previous?.metadata, cache.meta, sboms), layersVolume: input.volumes.layers, cacheVolume: cache.volume, image: input.builder.info.id, user: input.builder.user });
}

/**
 * Build (platform.md, "`builder`"). On a rebuild that can reuse exported layers, the fingerprint container
 * starts with the build and hashes as soon as the last bin/build succeeded (cache/steps.ts startFingerprintProbe).
 */
async function build(ctx: PhaseContext, input: PhasesInput, resolved: Resolved, ext: ExtensionsResult, cache: CacheState): Promise<Built> {
  const canSkip = cache.previous !== undefined && Object.keys(cache.meta.diffIds).length > 0;
  const doneFile = `${SCRATCH_DIR}/build-done`;
  const probe = canSkip
    ? startFingerprintProbe(ctx, { image: input.builder.info.id, layers: input.volumes.layers, app: input.volumes.app, scratch: input.volumes.scratch, buildpackIds: resolved.group.map((m) => m.id), doneFile })
    : undefined;
  const result = await runBuild(ctx, {
    builder: input.builder,
    image: ext.buildImage.id,
    imageEnv: ext.buildImage.config.env,
    volumes: input.volumes,
    group: resolved.group,
    plan: ext.plan.entries,
    platformEnv: input.platformEnv,
    target: ext.targetVars,
    ...(input.req.network !== undefined ? { network: input.req.network } : {}),
    ...(probe !== undefined ? { doneFile } : {}),
  }).catch(async (e: unknown) => {
    await probe?.cancel();
    throw e;
  });
  return { result, ...(probe !== undefined ? { probe } : {}) };
}

/** Export (platform.md, "`exporter`") and the cache volume's update (platform.md, "Caching"). */
async function exportStep(ctx: PhaseContext, input: PhasesInput, resolved: Resolved, ext: ExtensionsResult, cache: CacheState, b: Built): Promise<ExportResult> {
  const built = b.result;
  const prev = cache.previous;
  // Fingerprints decide what export may skip only when the cache knows diffIDs and there is a previous
  // image (the probe of the build step); otherwise (first build, --clear-cache) they are only for next time (below).
  const early = b.probe === undefined ? undefined : keyedByWorkspace(await b.probe.result.catch(() => fingerprints(ctx, input, cache, built)), input.req.workspace);
  const exportInput: ExportInput = {
    ...exportInputOf(input, resolved.group, resolved.groupExtensions, ext, built),
    ...(prev?.metadata !== undefined ? { previous: prev.metadata } : {}),
    ...(prev !== undefined ? { previousImageId: prev.imageId } : {}),
    ...(prev !== undefined && early !== undefined ? { unchanged: unchangedDirs(cache.meta, early, prev.layers) } : {}),
  };
  // Without the probe (first build, --clear-cache) the fingerprints for next time are computed alongside the
  // export, at low CPU priority: a big export's daemon work leaves enough idle time for them.
  const stopFingerprints = new AbortController();
  const fpCtx = { ...ctx, signal: ctx.signal === undefined ? stopFingerprints.signal : AbortSignal.any([ctx.signal, stopFingerprints.signal]) };
  const late = early === undefined ? fingerprints(fpCtx, input, cache, built, true) : undefined;
  const out = await exportImage(ctx, exportInput).catch(async (e: unknown) => {
    stopFingerprints.abort();
    await late;
    throw e;
  });
  const fps = early ?? keyedByWorkspace(await (late as Promise<Fingerprints>), input.req.workspace);
  input.keepImage(out.imageId);
  try {
    await saveCache(ctx, { volume: cache.volume, helperImage: input.builder.info.id, layersVolume: input.volumes.layers, old: cache.meta, fps, built: built.buildpacks, exportedLabels: out.labels });
  } catch (e) {
    // Cache failures only warn, as in the lifecycle (platform.md, "Caching").
    ctx.reporter.emit({ type: 'warning', message: `could not save the cache volume ${cache.volume}: ${(e as Error).message}` });
  }
  return out;
}

/** The phases of a build, one function each (pack's phase factory has the same role). */
export interface PhaseSteps {
  analyze(ctx: PhaseContext, input: PhasesInput): Promise<CacheState>;
  detect(ctx: PhaseContext, input: PhasesInput): Promise<Resolved>;
  restore(ctx: PhaseContext, input: PhasesInput, group: GroupMember[], cache: CacheState): Promise<void>;
  extensions(ctx: PhaseContext, input: PhasesInput, groupExtensions: GroupMember[], plan: Resolved['plan']): Promise<ExtensionsResult>;
  build(ctx: PhaseContext, input: PhasesInput, resolved: Resolved, ext: ExtensionsResult, cache: CacheState): Promise<Built>;
  export(ctx: PhaseContext, input: PhasesInput, resolved: Resolved, ext: ExtensionsResult, cache: CacheState, built: Built): Promise<ExportResult>;
}

export const buildSteps: PhaseSteps = { analyze, detect, restore, extensions: runExtensions, build, export: exportStep };
