/**
 * docker-load archives (the `docker save` layout: manifest.json, <config-hex>.json and one
 * <diffid-hex>/layer.tar per layer) that carry ONLY the new layers (docs/architecture.md, "The data flow of one build", step 8).
 *
 * Verified by hand on this daemon (Docker 20.10.24, `docker load -i`), base = `docker import` of a
 * one-file tar, archive = base diffID + one new layer:
 *  - manifest `Layers` lists a path for EVERY diffID, and the files of layers the daemon already has
 *    are simply absent: loads fine ("Loaded image: …"); the image has both layers, files of both are
 *    in a container, and loading the same archive again gives the same image id. (This is what we do.)
 *  - an empty string as the path of the absent layer: also loads (not used: the real path is clearer).
 *  - `Layers` listing only the new layer: rejected, "invalid manifest, layers length mismatch:
 *    expected 1, got 2" (one path per diffID is required).
 *  - the new layer's diffID alone at the bottom (its file absent), although the daemon has that
 *    diffID on top of the base: rejected, "open /var/lib/docker/tmp/docker-import-…/<hex>/layer.tar:
 *    no such file or directory". The daemon looks layers up by CHAIN id (the diffID together with all
 *    the diffIDs below it), and only opens the file when that chain is unknown.
 * Hence: a layer may be left out only when the daemon has an image whose bottom layers equal ours up
 * to and including it (the base image, or the previous app image up to the first changed layer);
 * reusablePrefixLength() computes that. A previous-image layer above a changed layer must be written.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ImageInfo } from '../ports.js';
import { archiveStream, type ArchiveMember } from './archive-writer.js';
import { digestHex } from './digest.js';
import { imageConfigJson, type HistoryEntry, type RuntimeConfig } from './image-config.js';

/** The image the new layers go on top of; an ImageInfo from the engine fits. */
export interface ArchiveBase extends Pick<ImageInfo, 'layers' | 'os' | 'architecture'> {
  variant?: string;
  /** The base's own history (one non-empty entry per layer); placeholders `{}` when unknown. */
  history?: HistoryEntry[];
}

/** A layer on top of the base: a tar file to ship, or one the daemon has on this exact chain. */
export type ArchiveLayer = { diffId: string; history: HistoryEntry; tarPath: string } | { diffId: string; history: HistoryEntry; reuse: true };

export interface ImageArchiveOptions {
  base: ArchiveBase;
  layers: ArchiveLayer[];
  /** The final runtime config (env, user, workingDir, entrypoint, cmd, labels, ports…). */
  config: RuntimeConfig;
  /** RFC 3339 creation time (platform.md, "Build Reproducibility": 1980-01-01T00:00:01Z unless SOURCE_DATE_EPOCH). */
  created: string;
  /** Repo tags docker load gives the image (may be empty: then it is loaded by id only). */
  tags: string[];
}

export interface ImageArchivePlan {
  imageId: string;
  /** Archive path of the config: `<image id hex>.json`. */
  configName: string;
  configJson: Buffer;
  /** The manifest.json bytes. */
  manifest: Buffer;
  /** Layer files to put in the archive: archive name -> tar on disk (each diffID once). */
  files: Array<{ name: string; tarPath: string }>;
  /** Every diffID of the image, bottom to top. */
  diffIds: string[];
}

/** The archive path of a layer tar shipped from a file: `<diffID hex>/layer.tar`, as docker save names it. */
export function layerName(diffId: string): string {
  return `${digestHex(diffId)}/layer.tar`;
}

/** The archive's contents, decided in pure code. */
export function planImageArchive(opts: ImageArchiveOptions): ImageArchivePlan {
  const baseHistory = opts.base.history ?? opts.base.layers.map((): HistoryEntry => ({}));
  const diffIds = [...opts.base.layers, ...opts.layers.map((l) => l.diffId)];
  const history = [...baseHistory, ...opts.layers.map((l) => l.history)];
  const { json, imageId } = imageConfigJson({
    os: opts.base.os,
    architecture: opts.base.architecture,
    ...(opts.base.variant !== undefined ? { variant: opts.base.variant } : {}),
    created: opts.created,
    config: opts.config,
    diffIds,
    history,
  });
  const configName = `${digestHex(imageId)}.json`;
  // One path per diffID, also for layers that are not in the archive (see the header comment).
  const paths = [...opts.base.layers.map(layerName), ...opts.layers.map((l) => layerName(l.diffId))];
  const manifest = [{ Config: configName, RepoTags: opts.tags.length > 0 ? opts.tags : null, Layers: paths }];
  const files = new Map<string, string>();
  for (const l of opts.layers) {
    if ('tarPath' in l && !files.has(layerName(l.diffId))) files.set(layerName(l.diffId), l.tarPath);
  }
  return {
    imageId,
    configName,
    configJson: json,
    manifest: Buffer.from(JSON.stringify(manifest)),
    files: [...files].map(([name, tarPath]) => ({ name, tarPath })),
    diffIds,
  };
}

/**
 * How many bottom layers of `diffIds` the daemon can supply itself, given the layer lists of images
 * it has (e.g. the base and the previous app image): the longest common prefix with any of them.
 * Layers at or above that index need their tar in the archive.
 */
export function reusablePrefixLength(diffIds: readonly string[], knownImages: ReadonlyArray<readonly string[]>): number {
  let best = 0;
  for (const known of knownImages) {
    let n = 0;
    while (n < diffIds.length && n < known.length && diffIds[n] === known[n]) n++;
    best = Math.max(best, n);
  }
  return best;
}

/**
 * The archive as a stream (for ContainerEngine.loadImage, so a big layer is not written twice):
 * layer files first (streamed from disk), then the config, then manifest.json.
 */
export async function imageArchiveStream(opts: ImageArchiveOptions): Promise<{ imageId: string; stream: Readable }> {
  const plan = planImageArchive(opts);
  // Sizes up front: a missing tar fails here, before anything is sent to the daemon.
  const sized = await Promise.all(plan.files.map(async (f) => ({ ...f, size: (await stat(f.tarPath)).size })));
  const members: ArchiveMember[] = [
    ...sized.map((f): ArchiveMember => ({ name: f.name, size: f.size, content: () => createReadStream(f.tarPath) })),
    { name: plan.configName, size: plan.configJson.length, content: plan.configJson },
    { name: 'manifest.json', size: plan.manifest.length, content: plan.manifest },
  ];
  return { imageId: plan.imageId, stream: archiveStream(members) };
}

/** Writes the archive to `dest` (for tests, debugging, `docker load -i`). */
export async function writeImageArchive(opts: ImageArchiveOptions & { dest: string }): Promise<{ imageId: string; archivePath: string }> {
  const { imageId, stream } = await imageArchiveStream(opts);
  await pipeline(stream, createWriteStream(opts.dest));
  return { imageId, archivePath: opts.dest };
}
