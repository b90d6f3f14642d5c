/**
 * What a run.Dockerfile may and may not leave behind (image_extension.md Dockerfile requirements,
 * platform.md extend phase): writes to <app>, <layers> and <platform> are not persisted. The lifecycle
 * runs the Dockerfiles with those directories mounted and leaves them out of its snapshots; with the
 * daemon's image build kiln gets the same in two kiln steps around the extensions' Dockerfiles:
 *  - before them, a metadata-free layer with the three (empty) directories, so a Dockerfile writing
 *    there does not fail on a run image that lacks them (preparedRunBase);
 *  - after them, the final image is rewritten without that layer and with every entry under the three
 *    directories taken out of the extension layers, each layer's history saying which instruction of
 *    which extension made it; io.buildpacks.rebasable is set in the same config (persistedRunImage).
 * Neither step is shown as the extension's output; both are cached like the extension steps.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import { ExitCode, KilnError } from '../../errors.js';
import { imageArchiveStream, type ArchiveLayer } from '../../image/image-archive.js';
import { filterLayerToFile } from '../../image/layer-filter.js';
import { makeTar, REPRODUCIBLE_MTIME } from '../../image/tar-files.js';
import type { ImageInfo } from '../../ports.js';
import { cacheImageLabels, EXTEND_CACHE_LABEL, extendCacheKey, findCachedImage, keepCachedImage } from './cache.js';
import { addedLayers, REBASABLE_LABEL } from './plan.js';
import { layersFromSavedImage } from '../export/load.js';
import { APP_DIR, LAYERS_DIR, PLATFORM_DIR, type PhaseContext } from '../phase-context.js';

/** Directories whose contents a Dockerfile cannot persist (the lifecycle's ignore paths). */
export const NOT_PERSISTED: readonly string[] = [APP_DIR, LAYERS_DIR, PLATFORM_DIR];

export interface KilnStepOptions {
  /** Labels on top of ctx.labels (the caller's extend labels). */
  labels: Record<string, string>;
  cache?: { sessionLabel: string; labels?: Record<string, string> };
}

async function inspectOrFail(ctx: PhaseContext, ref: string, action: string): Promise<ImageInfo> {
  const info = await ctx.engine.inspectImage(ref);
  if (info === undefined) throw new KilnError({ action, cause: `image ${ref} does not exist in the Docker daemon`, exitCode: ExitCode.extendFailed });
  return info;
}

function labelsFor(ctx: PhaseContext, o: KilnStepOptions, key: string): Record<string, string> {
  const all = { ...ctx.labels, ...o.labels, ...(o.cache?.labels ?? {}) };
  return o.cache !== undefined ? cacheImageLabels(all, key, o.cache.sessionLabel) : { ...ctx.labels, ...o.labels };
}

/** The run image plus one layer holding the empty <app>, <layers> and <platform> directories. */
export async function preparedRunBase(ctx: PhaseContext, base: ImageInfo, o: KilnStepOptions): Promise<ImageInfo> {
  const dockerfile = `FROM ${base.id}\nCOPY not-persisted/ /\n`;
  const context = await makeTar([
    { path: 'Dockerfile', content: dockerfile, mode: 0o644 },
    ...NOT_PERSISTED.map((d) => ({ path: `not-persisted${d}/`, type: 'directory' as const, mode: 0o755 })),
  ]);
  const key = extendCacheKey({ kind: 'not-persisted-dirs', baseImageId: base.id, dockerfile, context, args: [] });
  const cached = o.cache !== undefined ? await findCachedImage(ctx, key, o.cache.sessionLabel) : undefined;
  if (cached !== undefined) return inspectOrFail(ctx, cached, 'prepare the run image for extension');
  const { imageId } = await ctx.engine.buildImage({
    context,
    dockerfile: 'Dockerfile',
    buildArgs: {},
    labels: labelsFor(ctx, o, key),
    network: 'none',
    ...(ctx.signal !== undefined ? { signal: ctx.signal } : {}),
  });
  if (o.cache !== undefined) await keepCachedImage(ctx, key, imageId, o.cache.sessionLabel);
  return inspectOrFail(ctx, imageId, 'prepare the run image for extension');
}

export interface PersistInput extends KilnStepOptions {
  /** The run image as given (its layers are the app image's base). */
  original: ImageInfo;
  /** preparedRunBase(original). */
  prepared: ImageInfo;
  /** The result of the last run.Dockerfile. */
  current: ImageInfo;
  /** created_by of each layer above `prepared`, by diffID. */
  createdBy: (diffId: string, index: number) => string;
  rebasable: boolean;
}

/**
 * The extended run image as the app image will have it: the original run image's layers, then the
 * extension layers without anything under NOT_PERSISTED, the config of the last Dockerfile with
 * io.buildpacks.rebasable set. Returns it with the old -> new diffID of every extension layer.
 */
export async function persistedRunImage(ctx: PhaseContext, input: PersistInput): Promise<{ image: ImageInfo; diffIds: Map<string, string> }> {
  const action = 'remove unpersisted paths from the extended run image';
  const above = addedLayers(input.prepared.layers, input.current.layers);
  if (above === undefined) throw new KilnError({ action, cause: 'the extended image is not built on the prepared run image', exitCode: ExitCode.extendFailed });
  const key = extendCacheKey({ kind: 'persisted-run-image', baseImageId: input.current.id, dockerfile: `${REBASABLE_LABEL}=${String(input.rebasable)}`, context: Buffer.from(input.original.id), args: [] });
  const mapped = (image: ImageInfo): { image: ImageInfo; diffIds: Map<string, string> } => {
    const now = image.layers.slice(input.original.layers.length);
    return { image, diffIds: new Map(above.map((d, i) => [d, now[i] ?? d])) };
  };
  const cached = input.cache !== undefined ? await findCachedImage(ctx, key, input.cache.sessionLabel) : undefined;
  if (cached !== undefined) return mapped(await inspectOrFail(ctx, cached, action));
  const dir = await mkdtemp(join(tmpdir(), 'kiln-extend-'));
  try {
    const saved = await layersFromSavedImage(ctx, input.current.id, new Set(above), dir);
    const layers: ArchiveLayer[] = [];
    for (const [i, diffId] of above.entries()) {
      const file = saved.get(diffId);
      if (file === undefined) throw new KilnError({ action, cause: `layer ${diffId} was not in docker save of the extended run image`, exitCode: ExitCode.extendFailed });
      const tarPath = join(dir, `filtered-${i}.tar`);
      const filtered = await filterLayerToFile(createReadStream(file.path), tarPath, NOT_PERSISTED);
      layers.push({ diffId: filtered.diffId, history: { created_by: input.createdBy(diffId, i) }, tarPath });
    }
    // Labels: the Dockerfiles' own, without kiln's bookkeeping of the last build, plus this image's.
    const inherited = Object.fromEntries(Object.entries(input.current.config.labels).filter(([k]) => k !== EXTEND_CACHE_LABEL && k !== input.cache?.sessionLabel));
    const labels = { ...inherited, [REBASABLE_LABEL]: String(input.rebasable), ...labelsFor(ctx, input, key) };
    const o = input.original;
    const { imageId, stream } = await imageArchiveStream({
      base: { layers: o.layers, os: o.os, architecture: o.architecture, ...(o.variant !== undefined ? { variant: o.variant } : {}) },
      layers,
      config: { ...input.current.config, labels },
      created: REPRODUCIBLE_MTIME.toISOString().replace('.000Z', 'Z'),
      tags: [],
    });
    await ctx.engine.loadImage(stream);
    if (input.cache !== undefined) await keepCachedImage(ctx, key, imageId, input.cache.sessionLabel);
    return mapped(await inspectOrFail(ctx, imageId, action));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
