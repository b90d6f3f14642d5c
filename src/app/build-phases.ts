/**
 * The phases of one build after the volumes are ready (docs/architecture.md, "The data flow of one build", steps 4-8): detect (runs +
 * pure resolution), generate and extend (extensions), build, export. build-app.ts owns the session and
 * cleanup; this file only sequences phases and maps one phase's result onto the next one's input.
 */
import { ExitCode, KilnError } from '../errors.js';
import type { ImageInfo, KilnEvent, Reporter } from '../ports.js';
import { analyzePrevious, type Analyzed } from '../lifecycle/analyze.js';
import { runBuild, type BuildResult } from '../lifecycle/build.js';
import { defaultCacheVolume, type CacheMetadata } from '../lifecycle/cache/cache-volume.js';
import { fingerprintDirs, layerPath, openCache, saveCache, startFingerprintProbe, unchangedDirs, type Fingerprints } from '../lifecycle/cache/steps.js';
import { planRestore, restoreLayers } from '../lifecycle/restore.js';
import { readPreviousLaunchSboms } from '../lifecycle/restore-sbom.js';
import { candidateModules, detectKey, runDetects, type DetectRunResult } from '../lifecycle/detect.js';
import { exportImage } from '../lifecycle/export/export.js';
import type { ExportInput, ExportResult } from '../lifecycle/export/types.js';
import type { Env, TargetVars } from '../lifecycle/container/module-env.js';
import { SCRATCH_DIR, type RunVolumes } from '../lifecycle/container/module-run.js';
import type { PhaseContext } from '../lifecycle/phase-context.js';
import type { BuilderInfo } from '../lifecycle/read-builder.js';
import { formatTrace, resolveOrder, type ResolveResult } from '../lifecycle/resolve-order.js';
import type { GroupMember, OrderFile, PlanFile, ProjectDescriptor, Target } from '../cnb/models.js';
import { runExtensions, type ExtensionsResult } from './build-extensions.js';
import type { BuildRequest } from './build-app.js';
import type { ImageFetcher } from './image-fetcher.js';
import { inputKeyLabels } from './input-key.js';

export interface PhasesInput {
  req: BuildRequest;
  builder: BuilderInfo;
  project: ProjectDescriptor | undefined;
  volumes: RunVolumes;
  platformEnv: Env;
  runImage: { ref: string; info: ImageInfo; vars: TargetVars; target: Target };
  /** Images that must survive cleanup (the app image). */
  keepImage: (id: string) => void;
  /** Images the build needs after detect (a run image an extension switched to), under the pull policy. */
  fetcher: ImageFetcher;
  /** The build's input key (input-key.ts), written on the image; absent when the app could not be fingerprinted. */
  inputKey?: string;
}

export interface PhasesResult {
  imageId: string;
  group: GroupMember[];
  groupExtensions: GroupMember[];
  processes: string[];
  defaultProcessType?: string;
  runImage: string;
  warnings: string[];
  export: ExportResult;
  /** Dockerfile builds the extend step ran (0 when extended images were reused). */
  dockerBuilds: number;
  /** The cache volume used. */
  cacheVolume: string;
}

async function timed<T>(reporter: Reporter, phase: string, fn: () => Promise<T>): Promise<T> {
  const start = Date.now();
  reporter.emit({ type: 'phase-start', phase });
  const out = await fn();
  reporter.emit({ type: 'phase-end', phase, elapsedMs: Date.now() - start });
  return out;
}

/** project.toml's [[io.buildpacks.group]] (with pre/post) replaces the builder's order (pack behaviour). */
function effectiveOrder(builder: BuilderInfo, project: ProjectDescriptor | undefined): OrderFile {
  if (project === undefined || project.group.length === 0) return builder.order;
  const group = [...(project.preGroup ?? []), ...project.group, ...(project.postGroup ?? [])];
  return { order: [{ group }], orderExtensions: builder.order.orderExtensions };
}

/** `err: <id>@<version> (<code>)`, or with the reason when bin/detect exited 0 but its output was refused. */
export function detectErrorLine(r: DetectRunResult): string {
  const code = r.exitCode !== undefined && r.exitCode !== 0 ? ` (${r.exitCode})` : '';
  return `err: ${r.id}@${r.version}${code}${r.message !== undefined && r.message !== '' ? `: ${r.message}` : ''}`;
}

function showOutput(reporter: Reporter, r: DetectRunResult, asDebug: boolean): void {
  for (const o of r.output) {
    if (asDebug) reporter.emit({ type: 'debug', message: `[${r.id}] ${o.line}` });
    else reporter.emit({ type: 'module-line', module: r.id, stream: o.stream, line: o.line });
  }
}

/**
 * Detect runs fed to the pure resolver (buildpack.md, "Order Resolution", "Buildpack Interface: Detection"). Deviation, on purpose: every module the order
 * can reach runs its bin/detect up front, in parallel (4 at a time), instead of lazily as the lifecycle
 * does; the resolver's runDetect then answers from those results. Detect must not have side effects, so
 * the outcome is the same, and one container per module in parallel is much faster than one at a time.
 */
async function detect(ctx: PhaseContext, input: PhasesInput): Promise<Extract<ResolveResult, { ok: true }>> {
  const { builder } = input;
  const order = effectiveOrder(builder, input.project);
  const modules = candidateModules(builder, order);
  const results = await runDetects(
    ctx,
    {
      builder,
      volumes: input.volumes,
      platformEnv: input.platformEnv,
      target: input.runImage.vars,
      ...(input.req.network !== undefined ? { network: input.req.network } : {}),
      ...(input.req.detectParallel !== undefined ? { concurrency: input.req.detectParallel } : {}),
    },
    modules,
  );
  for (const r of results.values()) {
    showOutput(ctx.reporter, r, r.status !== 'error');
    // An erroring module (extension, optional buildpack) is named with its exit code, as the lifecycle's
    // detector logs it, before the resolver decides whether its group can still pass.
    if (r.status === 'error') ctx.reporter.emit({ type: 'info', message: detectErrorLine(r) });
  }
  const resolved = await resolveOrder({
    order: order.order,
    orderExtensions: order.orderExtensions,
    lookup: (kind, id, version) => {
      const map = kind === 'buildpack' ? builder.buildpacks : builder.extensions;
      const found = map.get(`${id}@${version}`) ?? (version === '' ? [...map.values()].find((m) => m.descriptor.id === id) : undefined);
      return found?.descriptor;
    },
    runDetect: (desc) => {
      const r = results.get(detectKey(desc.kind, desc.id, desc.version));
      if (r === undefined) return Promise.resolve({ code: -1, plan: { provides: [], requires: [], or: [] }, error: 'detect did not run' });
      return Promise.resolve({
        code: r.exitCode ?? 0,
        plan: r.plan ?? { provides: [], requires: [], or: [] },
        output: r.output.map((o) => o.line).join('\n'),
        ...(r.message !== undefined ? { error: r.message } : {}),
      });
    },
    runImageTarget: input.runImage.target,
  });
  if (!resolved.ok) {
    // All output is shown when the whole detection fails (buildpack.md, "Buildpack Interface: Detection").
    for (const r of results.values()) if (r.status !== 'error') showOutput(ctx.reporter, r, false);
    for (const line of formatTrace(resolved.trace)) ctx.reporter.emit({ type: 'info', message: line });
    throw new KilnError({
      action: 'detect',
      cause: resolved.code === 21 ? 'no buildpack group passed detection, and at least one buildpack errored' : 'no buildpack group passed detection',
      hint: resolved.code === 21 ? 'see the detect output above for the module that errored' : 'check that the builder has buildpacks for this app, or choose a group in project.toml',
      exitCode: resolved.code === 21 ? ExitCode.detectError : ExitCode.detectFail,
    });
  }
  const total = modules.filter((m) => m.kind === 'buildpack').length;
  ctx.reporter.emit({ type: 'info', message: `${resolved.group.length} of ${total} buildpacks participating` });
  for (const m of resolved.groupExtensions) ctx.reporter.emit({ type: 'info', message: `${m.id} ${m.version} (extension)` });
  for (const m of resolved.group) ctx.reporter.emit({ type: 'info', message: `${m.id} ${m.version}` });
  return resolved;
}

/**
 * project-metadata.toml as pack derives it from project.toml: a `source` of type "project" with the
 * declared version, when the project declares one (io.buildpacks.project.metadata, platform.md, "Labels").
 * project.toml's source-url is not kept by the parser, so metadata.url is not written.
 */
export function projectMetadataOf(project: ProjectDescriptor | undefined): Record<string, unknown> {
  if (project === undefined || project.version === '') return {};
  return { source: { type: 'project', version: { declared: project.version } } };
}

interface CacheState {
  volume: string;
  previous: Analyzed | undefined;
  meta: CacheMetadata;
  /** The volume was created by this build: removed again when the build fails before saving it. */
  created: boolean;
}

/** Analyze (platform.md, "`analyzer`") and open the cache volume (cache/cache-volume.ts): before detect, as the lifecycle does. */
async function analyze(ctx: PhaseContext, input: PhasesInput): Promise<CacheState> {
  const volume = input.req.cacheVolume ?? defaultCacheVolume(input.req.image);
  const previous = await analyzePrevious(ctx, input.req.image);
  const { meta, created } = await openCache(ctx, { volume, image: input.req.image, clear: input.req.clearCache === true, labels: input.req.labels ?? {}, helperImage: input.builder.info.id });
  if (previous !== undefined) ctx.reporter.emit({ type: 'info', message: `Previous image ${input.req.image} (${previous.imageId.slice(0, 19)})` });
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
  const created = sde !== undefined && /^\d+$/.test(sde) ? new Date(Number(sde) * 1000).toISOString().replace('.000Z', 'Z') : undefined;
  return {
    tags: [input.req.image],
    runImage: ext.runImage,
    user: input.builder.user,
    volumes: { layers: input.volumes.layers, app: input.volumes.app },
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

/**
 * Runs the phases. `ready` is the volume setup (build-app.ts): analyze does not need those volumes, so it
 * runs alongside (issue 5: rebuild time); both settle before anything fails, so nothing is still
 * creating resources when cleanup starts.
 */
export async function runPhases(ctx: PhaseContext, input: PhasesInput, ready: Promise<void> = Promise.resolve()): Promise<PhasesResult> {
  const [analyzed, setup] = await Promise.allSettled([timed(ctx.reporter, 'analyzing', () => analyze(ctx, input)), ready]);
  if (analyzed.status === 'rejected') throw analyzed.reason;
  const cache = analyzed.value;
  try {
    if (setup.status === 'rejected') throw setup.reason;
    return await phasesAfterAnalyze(ctx, input, cache);
  } catch (e) {
    // A cache volume this failed build created holds nothing worth keeping (and must not be a leftover).
    if (cache.created) await ctx.engine.removeVolume(cache.volume).catch(() => undefined);
    throw e;
  }
}

async function phasesAfterAnalyze(ctx: PhaseContext, input: PhasesInput, cache: CacheState): Promise<PhasesResult> {
  const resolved = await timed(ctx.reporter, 'detecting', () => detect(ctx, input));
  // Restore does not depend on the extensions (it writes /layers/<bp>, generate /layers/generated): it runs
  // alongside them; its events are held back and shown in its own phase, in the usual order.
  const held: KilnEvent[] = [];
  const restoring = readPreviousLaunchSboms(ctx, cache.previous).then((sboms) =>
    restoreLayers(
      { ...ctx, reporter: { emit: (e) => held.push(e) } },
      { plan: planRestore(resolved.group, cache.previous?.metadata, cache.meta, sboms), layersVolume: input.volumes.layers, cacheVolume: cache.volume, image: input.builder.info.id, user: input.builder.user },
    ),
  );
  restoring.catch(() => undefined);
  const ext = await runExtensions(ctx, input, resolved.groupExtensions, resolved.plan).catch(async (e: unknown) => {
    await restoring.catch(() => undefined);
    throw e;
  });
  const plan: PlanFile = ext.plan;
  await timed(ctx.reporter, 'restoring', () =>
    restoring.finally(() => {
      for (const e of held) ctx.reporter.emit(e);
    }),
  );
  // On a rebuild that can reuse exported layers, the fingerprint container starts with the build and
  // hashes as soon as the last bin/build succeeded (cache/steps.ts startFingerprintProbe).
  const canSkip = cache.previous !== undefined && Object.keys(cache.meta.diffIds).length > 0;
  const doneFile = `${SCRATCH_DIR}/build-done`;
  const probe = canSkip
    ? startFingerprintProbe(ctx, { image: input.builder.info.id, layers: input.volumes.layers, app: input.volumes.app, scratch: input.volumes.scratch, buildpackIds: resolved.group.map((m) => m.id), doneFile })
    : undefined;
  const built = await timed(ctx.reporter, 'building', () =>
    runBuild(ctx, {
      builder: input.builder,
      image: ext.buildImage.id,
      imageEnv: ext.buildImage.config.env,
      volumes: input.volumes,
      group: resolved.group,
      plan: plan.entries,
      platformEnv: input.platformEnv,
      target: ext.targetVars,
      ...(input.req.network !== undefined ? { network: input.req.network } : {}),
      ...(probe !== undefined ? { doneFile } : {}),
    }),
  ).catch(async (e: unknown) => {
    await probe?.cancel();
    throw e;
  });
  for (const w of built.warnings) ctx.reporter.emit({ type: 'warning', message: w });
  const exported = await timed(ctx.reporter, 'exporting', async () => {
    const prev = cache.previous;
    // Fingerprints decide what export may skip only when the cache knows diffIDs and there is a previous
    // image (the probe above); otherwise (first build, --clear-cache) they are only for next time (below).
    const early = probe === undefined ? undefined : await probe.result.catch(() => fingerprints(ctx, input, cache, built));
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
    const fps = early ?? (await (late as Promise<Fingerprints>));
    input.keepImage(out.imageId);
    try {
      await saveCache(ctx, { volume: cache.volume, helperImage: input.builder.info.id, layersVolume: input.volumes.layers, old: cache.meta, fps, built: built.buildpacks, exportedLabels: out.labels });
    } catch (e) {
      // Cache failures only warn, as in the lifecycle (platform.md, "Caching").
      ctx.reporter.emit({ type: 'warning', message: `could not save the cache volume ${cache.volume}: ${(e as Error).message}` });
    }
    return out;
  });
  ctx.reporter.emit({ type: 'info', message: `Successfully built image ${input.req.image} (${exported.imageId})` });
  return {
    imageId: exported.imageId,
    group: resolved.group,
    groupExtensions: resolved.groupExtensions,
    processes: built.processes.map((p) => p.type),
    ...(built.defaultProcessType !== undefined ? { defaultProcessType: built.defaultProcessType } : {}),
    runImage: ext.runImage.image,
    warnings: [...ext.warnings, ...built.warnings],
    export: exported,
    dockerBuilds: ext.dockerBuilds,
    cacheVolume: cache.volume,
  };
}
