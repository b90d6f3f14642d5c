/**
 * The streamed load of an export (issue 5): big launch layers go from the layers volume (the daemon's
 * archive of the dir) through LayerReheader straight into the docker load request while the daemon
 * reads it; no temp file, and the tar work overlaps the daemon's. The archive is written in this
 * order: the streamed layers (each `kiln-stream-<n>/layer.tar`, with the size predicted from a
 * listing of the dir in its header), the other layers that must be shipped (temp files), then the
 * config and manifest.json, which are only computed once the streamed layers' diffIDs are known.
 *
 * Correct in every case: archive-writer.ts throws as soon as a streamed layer is not exactly its
 * predicted size, before the member is complete, and the request is torn down with that error, so
 * the daemon's load fails on a truncated archive and loads and tags nothing (manifest.json comes last
 * anyway). The caller then exports those layers through temp files (StreamFailed). An interrupt
 * before the load leaves everything as it was; one while the archive is still being sent tears the
 * request down the same way (exit 130, previous image untouched). Once the last byte is sent the
 * load completes: that is the point of no return now.
 */
import { createReadStream } from 'node:fs';
import { ExitCode, KilnError } from '../../errors.js';
import { archiveStream, type ArchiveMember } from '../../image/archive-writer.js';
import { layerName, planImageArchive } from '../../image/image-archive.js';
import { LayerReheader } from '../../image/layer-reheader.js';
import type { TarStreamOptions } from '../../image/layer-tar.js';
import type { ImageInfo } from '../../ports.js';
import { archiveBase, archiveLayers, confirmLoaded, interruptedBeforeLoad, planShipping, type LayerFile } from './load.js';
import type { ImagePlan } from './plan.js';
import type { PhaseContext } from '../phase-context.js';
import { readFromVolume } from '../container/volume-io.js';

/** A big launch layer: committed (export/commit.ts) or streamed, so its diffID is known only later. */
export interface BigLayer {
  /** Path of the layer dir in the layers volume ("<bp>/<layer>"). */
  volumePath: string;
  placement: TarStreamOptions;
  /** Stands in for the diffID in plans made before the layer is written. */
  placeholder: string;
}

export interface StreamedLayer extends BigLayer {
  /** The tar's size predicted from the dir's listing (image/layer-size.ts). */
  size: number;
}

export interface StreamedLoadOptions {
  layersVolume: string;
  helperImage: string;
  streamed: StreamedLayer[];
  /** The image plan, given the streamed layers' diffIDs found so far (placeholder -> diffID). */
  planFor: (diffIds: ReadonlyMap<string, string>) => ImagePlan;
  base: ImageInfo;
  /** Tars this export wrote to temp files, by diffID. */
  files: Map<string, LayerFile>;
  tags: string[];
  dir: string;
  previousImageId?: string;
}

/** The streamed layers could not be written as predicted; nothing was loaded. */
export class StreamFailed extends Error {
  constructor(readonly reason: Error) {
    super(`streaming a layer into the load failed: ${reason.message}`);
    this.name = 'StreamFailed';
  }
}

/** The re-headered layer tar of one dir, straight from the volume (destroying it removes the helper). */
async function layerTar(ctx: PhaseContext, opts: StreamedLoadOptions, layer: StreamedLayer): Promise<LayerReheader> {
  const source = await readFromVolume(ctx, { volume: opts.layersVolume, image: opts.helperImage, path: layer.volumePath });
  const reheader = new LayerReheader(layer.placement);
  source.on('error', (e: Error) => reheader.destroy(e));
  reheader.once('close', () => {
    if (!source.readableEnded) source.destroy();
  });
  return source.pipe(reheader);
}

/** A function, so TypeScript does not narrow the flag across the awaits that change it. */
function aborted(ctx: PhaseContext): boolean {
  return ctx.signal?.aborted === true;
}

function memberName(i: number): string {
  return `kiln-stream-${i}/layer.tar`;
}

/** Loads the image with the streamed layers; returns its id, the final plan and the streamed diffIDs. */
export async function loadStreamed(ctx: PhaseContext, opts: StreamedLoadOptions): Promise<{ imageId: string; plan: ImagePlan; diffIds: Map<string, string> }> {
  const pending = new Set(opts.streamed.map((s) => s.placeholder));
  const prePlan = opts.planFor(new Map());
  const shipping = await planShipping(ctx, { plan: prePlan, files: opts.files, dir: opts.dir, pending, ...(opts.previousImageId !== undefined ? { previousImageId: opts.previousImageId } : {}) });
  const real = new Map<string, string>();
  let streaming: StreamedLayer | undefined;
  let failure: Error | undefined;
  let imageId: string | undefined;
  let plan: ImagePlan | undefined;

  async function* members(): AsyncIterable<ArchiveMember> {
    for (const [i, s] of opts.streamed.entries()) {
      streaming = s;
      const start = Date.now();
      let tar: LayerReheader | undefined;
      yield { name: memberName(i), size: s.size, content: async () => (tar = await layerTar(ctx, opts, s)) };
      // The writer asks for the next member only once this one is written in full.
      real.set(s.placeholder, (tar as LayerReheader).result().diffId);
      ctx.reporter.emit({ type: 'debug', message: `layer ${s.volumePath}: ${s.size} bytes streamed in ${Date.now() - start} ms` });
    }
    streaming = undefined;
    const shipped = new Set<string>();
    for (const l of archiveLayers(prePlan, shipping, new Map([...pending].map((p) => [p, p])))) {
      if (!('tarPath' in l) || shipped.has(l.diffId)) continue;
      shipped.add(l.diffId);
      const file = shipping.files.get(l.diffId) as LayerFile;
      yield { name: layerName(l.diffId), size: file.size, content: () => createReadStream(file.path) };
    }
    plan = opts.planFor(real);
    const streamedAs = new Map(opts.streamed.map((s, i) => [real.get(s.placeholder) ?? s.placeholder, memberName(i)]));
    const archive = planImageArchive({ base: archiveBase(plan, opts.base), layers: archiveLayers(plan, shipping, streamedAs), config: plan.config, created: plan.created, tags: opts.tags });
    imageId = archive.imageId;
    yield { name: archive.configName, size: archive.configJson.length, content: archive.configJson };
    // The last member completes the archive: past it the daemon loads and tags.
    if (aborted(ctx)) throw interruptedBeforeLoad();
    yield { name: 'manifest.json', size: archive.manifest.length, content: archive.manifest };
  }

  async function* guarded(): AsyncIterable<ArchiveMember> {
    try {
      yield* members();
    } catch (e) {
      if (streaming !== undefined) failure = e instanceof Error ? e : new Error(String(e));
      throw e;
    }
  }

  // Nothing has been read from the volumes yet: an interrupt now leaves everything as it was.
  if (aborted(ctx)) throw interruptedBeforeLoad();
  const stream = archiveStream(guarded());
  // Errors of the streamed member's content (size, source) end the stream; record them as a stream failure.
  stream.once('error', (e: Error) => {
    if (streaming !== undefined && failure === undefined) failure = e;
  });
  const onAbort = (): void => void stream.destroy(new Error('interrupted while the image was sent to the daemon'));
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await ctx.engine.loadImage(stream);
  } catch (e) {
    if (aborted(ctx)) {
      throw new KilnError({ action: 'export the app image', cause: 'interrupted while the image was sent to the daemon; the previous image is untouched', exitCode: ExitCode.interrupted, original: e });
    }
    if (failure !== undefined) throw new StreamFailed(failure);
    throw e;
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
    if (!stream.destroyed) stream.destroy();
  }
  if (imageId === undefined || plan === undefined || failure !== undefined) throw new StreamFailed(failure ?? new Error('the archive was not written to its end'));
  await confirmLoaded(ctx, imageId, opts.tags);
  return { imageId, plan, diffIds: real };
}
