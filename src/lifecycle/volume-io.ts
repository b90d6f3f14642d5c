/**
 * Moving files in and out of named volumes through the port only (architecture.md, Docker use 2):
 * a labelled container of some image is created — never started — with the volume mounted, and the
 * daemon's archive endpoints copy tar streams through it. The container is removed in every case.
 */
import { Readable } from 'node:stream';
import { isKilnError } from '../errors.js';
import { readTarFiles } from '../image/tar-files.js';
import type { PhaseContext } from './phase-context.js';

/** Where the volume is mounted inside the helper container. */
const MOUNT = '/kiln-volume';

/**
 * A missing path comes back from the engine's getArchive as a KilnError whose cause starts with this
 * text (src/docker/docker-engine.ts NO_SUCH_PATH; fakes of the port should do the same).
 */
const NO_SUCH_PATH = 'no such file or directory';

async function withVolumeContainer<T>(ctx: PhaseContext, volume: string, image: string, fn: (id: string) => Promise<T>): Promise<T> {
  const id = await ctx.engine.createContainer({
    image,
    cmd: ['true'],
    user: '0:0',
    mounts: [{ type: 'volume', source: volume, target: MOUNT }],
    labels: ctx.labels,
  });
  try {
    return await fn(id);
  } finally {
    await ctx.engine.removeContainer(id);
  }
}

function inVolume(path: string): string {
  const rel = path.replace(/^\/+/, '');
  return rel === '' ? MOUNT : `${MOUNT}/${rel}`;
}

export interface WriteToVolumeOptions {
  volume: string;
  /** Any local image; it is only used to create the (never started) helper container. */
  image: string;
  /** Directory inside the volume to extract into ('/' is the volume's root); it must exist. */
  dest: string;
  tar: Readable | Buffer;
}

/** Extracts a tar into the volume at `dest`. Ownership and modes come from the tar headers. */
export async function writeToVolume(ctx: PhaseContext, opts: WriteToVolumeOptions): Promise<void> {
  await withVolumeContainer(ctx, opts.volume, opts.image, (id) => ctx.engine.putArchive(id, inVolume(opts.dest), opts.tar));
}

export interface ReadFromVolumeOptions {
  volume: string;
  image: string;
  /** Path inside the volume; the tar's root entry is its last path element ('/' gives the whole volume). */
  path: string;
}

/**
 * A tar stream of `path` inside the volume. The stream is fully buffered before the helper container is
 * removed, so the caller never reads from a container that is already gone.
 */
export async function readFromVolume(ctx: PhaseContext, opts: ReadFromVolumeOptions): Promise<Readable> {
  return withVolumeContainer(ctx, opts.volume, opts.image, async (id) => {
    const stream = await ctx.engine.getArchive(id, inVolume(opts.path));
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
    return Readable.from([Buffer.concat(chunks)]);
  });
}

export function isMissingPath(e: unknown): boolean {
  return isKilnError(e) && e.causeText.startsWith(NO_SUCH_PATH);
}

/**
 * The files under `path` in the volume, keyed by their path relative to `path`'s parent (so the tar's
 * root element comes first, e.g. "plan.toml" or "generated/ext/build.Dockerfile"); for '/' the keys are
 * relative to the volume's root. A missing path gives an empty map. For metadata-sized content only.
 */
export async function readFilesFromVolume(ctx: PhaseContext, opts: ReadFromVolumeOptions & { maxBytes?: number }): Promise<Map<string, Buffer>> {
  try {
    const tar = await readFromVolume(ctx, opts);
    const files = await readTarFiles(tar, opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {});
    if (inVolume(opts.path) !== MOUNT) return files;
    const root = `${MOUNT.slice(1)}/`;
    return new Map([...files].filter(([k]) => k.startsWith(root)).map(([k, v]) => [k.slice(root.length), v]));
  } catch (e) {
    if (isMissingPath(e)) return new Map();
    throw e;
  }
}
