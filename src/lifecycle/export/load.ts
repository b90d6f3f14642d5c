/**
 * Loading the exported image: an archive with only the layers the daemon does not have on the same
 * chain (image-archive.ts explains why the chain matters), then a check that the daemon has it.
 * A launch layer reused from the previous image without local contents (buildpack.md, "Phase #6: Export") that sits
 * above a changed layer has to be shipped too: its tar is taken out of `docker save` of that image.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tarStream from 'tar-stream';
import { ExitCode, KilnError } from '../../errors.js';
import { HashTap } from '../../image/digest.js';
import { imageArchiveStream, reusablePrefixLength, type ArchiveBase, type ArchiveLayer } from '../../image/image-archive.js';
import type { HistoryEntry } from '../../image/image-config.js';
import type { ImageInfo } from '../../ports.js';
import type { ImagePlan } from './plan.js';
import type { PhaseContext } from '../phase-context.js';

export interface LayerFile {
  path: string;
  size: number;
}

export interface LoadExportOptions {
  plan: ImagePlan;
  /** The (extended) run image the plan builds on. */
  base: ImageInfo;
  /** Tars written by this export, by diffID. */
  files: Map<string, LayerFile>;
  tags: string[];
  /** A temp dir for layers taken out of the previous image. */
  dir: string;
  previousImageId?: string;
  /** Layer lists (bottom to top) of other images the daemon has, e.g. layers committed by this export. */
  knownChains?: string[][];
}

/** Base history: unknown entries for the run image's layers (the port has no history), extension texts on top. */
function baseHistory(plan: ImagePlan): HistoryEntry[] {
  const ext = new Map(plan.extensionHistory.map((h, i) => [plan.baseLayers.length - plan.extensionHistory.length + i, h.createdBy]));
  return plan.baseLayers.map((_, i): HistoryEntry => {
    const createdBy = ext.get(i);
    return createdBy !== undefined ? { created_by: createdBy } : {};
  });
}

/**
 * Streams `docker save <image>` and keeps the layer tars whose diffID is wanted (a saved layer.tar is
 * the uncompressed layer, so its sha256 is its diffID). Returns diffID -> file.
 */
export async function layersFromSavedImage(ctx: Pick<PhaseContext, 'engine'>, ref: string, wanted: Set<string>, dir: string): Promise<Map<string, LayerFile>> {
  const found = new Map<string, LayerFile>();
  const extract = tarStream.extract();
  const source = await ctx.engine.saveImage(ref);
  source.on('error', (e: Error) => extract.destroy(e));
  source.pipe(extract);
  let n = 0;
  for await (const entry of extract) {
    if (entry.header.type === 'file' && /(^|\/)layer\.tar$/.test(entry.header.name) && found.size < wanted.size) {
      const path = join(dir, `previous-${n++}.tar`);
      const tap = new HashTap();
      await pipeline(entry, tap, createWriteStream(path));
      const diffId = tap.digest();
      if (wanted.has(diffId) && !found.has(diffId)) found.set(diffId, { path, size: tap.size });
      else await rm(path, { force: true });
    } else entry.resume();
  }
  return found;
}

/** The archive's base: the (extended) run image's layers with their history. */
export function archiveBase(plan: ImagePlan, base: ImageInfo): ArchiveBase {
  return { layers: plan.baseLayers, os: base.os, architecture: base.architecture, ...(base.variant !== undefined ? { variant: base.variant } : {}), history: baseHistory(plan) };
}

export interface Shipping {
  /** Layers of the image (base included) below this index are left out: the daemon has their chain. */
  reusable: number;
  /** Layer tars by diffID: this export's plus those taken out of the previous image. */
  files: Map<string, LayerFile>;
}

/**
 * Which layers the archive must carry: all from the first one the daemon does not have on the same
 * chain (base and previous image); those without a tar of this export are taken from the previous
 * image.
 */
export async function planShipping(
  ctx: PhaseContext,
  opts: { plan: ImagePlan; files: Map<string, LayerFile>; dir: string; previousImageId?: string; knownChains?: string[][] },
): Promise<Shipping> {
  const { plan } = opts;
  const diffIds = [...plan.baseLayers, ...plan.layers.map((l) => l.diffId)];
  const known: string[][] = [plan.baseLayers, ...(opts.knownChains ?? [])];
  if (opts.previousImageId !== undefined && opts.previousImageId !== '') {
    const prev = await ctx.engine.inspectImage(opts.previousImageId);
    if (prev !== undefined) known.push(prev.layers);
  }
  const reusable = Math.max(plan.baseLayers.length, reusablePrefixLength(diffIds, known));
  const files = new Map(opts.files);
  const missing = new Set(plan.layers.filter((l, i) => plan.baseLayers.length + i >= reusable && !files.has(l.diffId)).map((l) => l.diffId));
  if (missing.size > 0 && opts.previousImageId !== undefined) {
    for (const [d, f] of await layersFromSavedImage(ctx, opts.previousImageId, missing, opts.dir)) files.set(d, f);
  }
  for (const l of plan.layers) {
    if (missing.has(l.diffId) && !files.has(l.diffId)) throw new Error(`layer ${l.diffId} (${l.createdBy}) is neither in the daemon on this chain nor in the previous image`);
  }
  return { reusable, files };
}

/** The plan's layers as archive layers: reused below `reusable`, else from a file. */
export function archiveLayers(plan: ImagePlan, shipping: Shipping): ArchiveLayer[] {
  return plan.layers.map((l, i) => {
    const history: HistoryEntry = { created_by: l.createdBy };
    if (plan.baseLayers.length + i < shipping.reusable) return { diffId: l.diffId, history, reuse: true };
    const file = shipping.files.get(l.diffId);
    if (file === undefined) throw new Error(`layer ${l.diffId} (${l.createdBy}) is neither in the daemon on this chain nor in the previous image`);
    return { diffId: l.diffId, history, tarPath: file.path };
  });
}

/** After docker load: the daemon has the image, and every tag points at it. */
export async function confirmLoaded(ctx: PhaseContext, imageId: string, tags: string[]): Promise<void> {
  const loaded = await ctx.engine.inspectImage(imageId);
  if (loaded === undefined) throw new Error(`the daemon did not report image ${imageId} after loading it`);
  // docker load tags from the manifest's RepoTags; tag again in case an adapter ignores them.
  for (const t of tags) {
    const tagged = await ctx.engine.inspectImage(t);
    if (tagged?.id !== imageId) await ctx.engine.tagImage(imageId, t);
  }
}

export function interruptedBeforeLoad(): KilnError {
  return new KilnError({ action: 'export the app image', cause: 'interrupted before the image was loaded; the previous image is untouched', exitCode: ExitCode.interrupted });
}

/** Loads the image and returns its id (sha256 of the canonical config: same inputs => same id). */
export async function loadExportImage(ctx: PhaseContext, opts: LoadExportOptions): Promise<string> {
  const { plan } = opts;
  const shipping = await planShipping(ctx, {
    plan,
    files: opts.files,
    dir: opts.dir,
    ...(opts.previousImageId !== undefined ? { previousImageId: opts.previousImageId } : {}),
    ...(opts.knownChains !== undefined ? { knownChains: opts.knownChains } : {}),
  });
  const { imageId, stream } = await imageArchiveStream({ base: archiveBase(plan, opts.base), layers: archiveLayers(plan, shipping), config: plan.config, created: plan.created, tags: opts.tags });
  // Loading tags the image: the point of no return. An interrupt that came before it leaves the previous
  // image where it was (issue 8, docs/reliability.md "Interruption").
  if (ctx.signal?.aborted === true) {
    stream.destroy();
    throw interruptedBeforeLoad();
  }
  await ctx.engine.loadImage(stream);
  await confirmLoaded(ctx, imageId, opts.tags);
  return imageId;
}
