/**
 * Moving files in and out of named volumes through the port only (docs/architecture.md, "The one big decision: the lifecycle runs on the host", use 2):
 * a labelled container of some image is created — never started — with the volume mounted, and the
 * daemon's archive endpoints copy tar streams through it. The container is removed in every case.
 */
import { PassThrough, type Readable } from 'node:stream';
import { isErrorKind } from '../../errors.js';
import { readTarFiles, type TarFileEntry } from '../../image/tar-files.js';
import { packTarStream, type PackEntry, type PackOptions, type PackProgress } from '../../image/tar-pack-stream.js';
import { createHelperContainer } from './helper-run.js';
import { showProgress } from './upload-progress.js';
import type { PhaseContext, VolumeHost } from '../phase-context.js';

/** Where the volume is mounted inside the helper container. */
const MOUNT = '/kiln-volume';

function createHelper(ctx: PhaseContext, volume: string, image: string, target: string = MOUNT): Promise<string> {
  return createHelperContainer(ctx, { image, mounts: [{ type: 'volume', source: volume, target }] });
}

export type { VolumeHost } from '../phase-context.js';

export async function createVolumeHost(ctx: PhaseContext, image: string, mounts: Array<{ volume: string; target: string }>): Promise<VolumeHost> {
  const id = await createHelperContainer(ctx, { image, mounts: mounts.map((m) => ({ type: 'volume' as const, source: m.volume, target: m.target })) });
  return { id, mounts: new Map(mounts.map((m) => [m.volume, m.target])) };
}

/** The host container and the path of `path` inside it, when ctx has a host that mounts the volume. */
function onHost(ctx: PhaseContext, volume: string, path: string): { id: string; path: string } | undefined {
  const at = ctx.volumeHost?.mounts.get(volume);
  if (ctx.volumeHost === undefined || at === undefined) return undefined;
  const rel = path.replace(/^\/+/, '');
  return { id: ctx.volumeHost.id, path: rel === '' ? at : `${at}/${rel}` };
}

async function withVolumeContainer<T>(ctx: PhaseContext, volume: string, image: string, fn: (id: string) => Promise<T>): Promise<T> {
  const id = await createHelper(ctx, volume, image);
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

/**
 * Gives a new, EMPTY volume the ownership, mode and contents of directory `path` of `image`: Docker copies
 * an image directory into an empty named volume when a container mounting it there is created
 * (docs/architecture.md, "Known traps"). E.g. the builder's /layers (owned by the CNB user) for the layers volume, so
 * the CNB user can write the volume's root, which putArchive cannot chown. No effect on a non-empty volume.
 */
export async function seedVolumeFromImage(ctx: PhaseContext, opts: { volume: string; image: string; path: string }): Promise<void> {
  const id = await createHelper(ctx, opts.volume, opts.image, opts.path);
  await ctx.engine.removeContainer(id);
}

export interface WriteToVolumeOptions {
  volume: string;
  /** Any local image; it is only used to create the (never started) helper container. */
  image: string;
  /** Directory inside the volume to extract into ('/' is the volume's root); it must exist. */
  dest: string;
  tar: Readable | Buffer;
}

/** Entries for one volume: a list in memory, or an iterator whose host files are read as the tar is sent. */
export type VolumeEntries = TarFileEntry[] | Iterable<PackEntry> | AsyncIterable<PackEntry>;

export interface WriteToVolumesOptions {
  /** Shows progress under this name when the copy takes more than a second (upload-progress.ts). */
  show?: string;
  /** How host files of the entries are read (modes, errors). */
  pack?: PackOptions;
}

async function* under(prefix: string, entries: VolumeEntries): AsyncGenerator<PackEntry> {
  const p = prefix === '' ? undefined : Buffer.from(`${prefix}/`);
  for await (const e of entries as AsyncIterable<TarFileEntry | PackEntry>) {
    const entry: PackEntry = { ...e, type: e.type ?? 'file', uid: e.uid ?? 0, gid: e.gid ?? 0 };
    yield p === undefined ? entry : { ...entry, path: typeof entry.path === 'string' ? `${prefix}/${entry.path}` : Buffer.concat([p, entry.path]) };
  }
}

/**
 * Sends a streamed tar into a container. A failure while writing the tar (a file that cannot be read,
 * an interrupt) ends the request early and is the error reported, whatever the daemon then says.
 */
async function putStream(ctx: PhaseContext, id: string, dest: string, entries: AsyncIterable<PackEntry>, opts: WriteToVolumesOptions): Promise<void> {
  const progress: PackProgress = { files: 0, bytes: 0 };
  const tar = packTarStream(entries, { ...opts.pack, progress, ...(ctx.signal !== undefined ? { signal: ctx.signal } : {}) });
  let failure: unknown;
  const body = new PassThrough();
  tar.once('error', (e) => {
    failure = e;
    body.end();
  });
  tar.pipe(body);
  const stop = opts.show !== undefined ? showProgress(ctx.reporter, opts.show, progress) : undefined;
  try {
    await ctx.engine.putArchive(id, dest, body);
  } catch (e) {
    if (failure === undefined) throw e;
  } finally {
    tar.destroy();
    stop?.(failure === undefined);
  }
  if (failure !== undefined) throw failure;
}

/**
 * Writes entries (paths relative to each volume's root) into several volumes as one streamed tar: one
 * archive request when the volume host mounts them all (issue 5: each request costs a round trip and
 * the daemon takes them one at a time per container), else one request each. Host files in the entries
 * are read while the tar is sent, so memory stays bounded whatever their size.
 */
export async function writeToVolumes(ctx: PhaseContext, parts: Array<{ volume: string; image: string; entries: VolumeEntries }>, opts: WriteToVolumesOptions = {}): Promise<void> {
  const host = ctx.volumeHost;
  const at = parts.map((p) => host?.mounts.get(p.volume));
  if (host !== undefined && at.every((m) => m !== undefined)) {
    const all = async function* (): AsyncGenerator<PackEntry> {
      for (const [i, p] of parts.entries()) yield* under((at[i] as string).slice(1), p.entries);
    };
    return putStream(ctx, host.id, '/', all(), opts);
  }
  for (const p of parts) {
    const on = onHost(ctx, p.volume, '/');
    if (on !== undefined) await putStream(ctx, on.id, on.path, under('', p.entries), opts);
    else await withVolumeContainer(ctx, p.volume, p.image, (id) => putStream(ctx, id, MOUNT, under('', p.entries), opts));
  }
}

/** Extracts a tar into the volume at `dest`. Ownership and modes come from the tar headers. */
export async function writeToVolume(ctx: PhaseContext, opts: WriteToVolumeOptions): Promise<void> {
  const host = onHost(ctx, opts.volume, opts.dest);
  if (host !== undefined) return ctx.engine.putArchive(host.id, host.path, opts.tar);
  await withVolumeContainer(ctx, opts.volume, opts.image, (id) => ctx.engine.putArchive(id, inVolume(opts.dest), opts.tar));
}

export interface ReadFromVolumeOptions {
  volume: string;
  image: string;
  /** Path inside the volume; the tar's root entry is its last path element ('/' gives the whole volume). */
  path: string;
}

/**
 * A tar stream of `path` inside the volume, streamed (layer contents can be large). The helper container
 * is removed when the stream ends, fails or is destroyed; `end` is only emitted once it is gone, so a
 * caller that reads to the end leaves nothing behind. A caller must read or destroy the stream.
 */
export async function readFromVolume(ctx: PhaseContext, opts: ReadFromVolumeOptions): Promise<Readable> {
  const host = onHost(ctx, opts.volume, opts.path);
  if (host !== undefined) return ctx.engine.getArchive(host.id, host.path);
  const id = await createHelper(ctx, opts.volume, opts.image);
  let source: Readable;
  try {
    source = await ctx.engine.getArchive(id, inVolume(opts.path));
  } catch (e) {
    await ctx.engine.removeContainer(id);
    throw e;
  }
  let removal: Promise<void> | undefined;
  const remove = (): Promise<void> => (removal ??= ctx.engine.removeContainer(id).catch(() => undefined));
  const out = new PassThrough();
  source.pipe(out, { end: false });
  source.once('end', () => void remove().then(() => out.end()));
  source.once('error', (e) => void remove().then(() => out.destroy(e)));
  out.once('close', () => {
    if (!source.readableEnded) source.destroy();
    void remove();
  });
  return out;
}

/** A missing path comes back from the engine's getArchive as a KilnError of kind 'missing-path' (fakes of the port do the same). */
export function isMissingPath(e: unknown): boolean {
  return isErrorKind(e, 'missing-path');
}

/**
 * The files under `path` in the volume, keyed by their path relative to `path`'s parent (so the tar's
 * root element comes first, e.g. "plan.toml" or "generated/ext/build.Dockerfile"); for '/' the keys are
 * relative to the volume's root. A missing path gives an empty map. For metadata-sized content only.
 */
export async function readFilesFromVolume(ctx: PhaseContext, opts: ReadFromVolumeOptions & { maxBytes?: number }): Promise<Map<string, Buffer>> {
  let tar: Readable | undefined;
  try {
    tar = await readFromVolume(ctx, opts);
    const files = await readTarFiles(tar, opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {});
    if (inVolume(opts.path) !== MOUNT) return files;
    // The tar's root element is the mount point's name (kiln-volume, or e.g. workspace on the volume host).
    const root = `${(ctx.volumeHost?.mounts.get(opts.volume) ?? MOUNT).split('/').pop() ?? ''}/`;
    return new Map([...files].filter(([k]) => k.startsWith(root)).map(([k, v]) => [k.slice(root.length), v]));
  } catch (e) {
    // Destroying the stream removes the helper container (readFromVolume).
    tar?.destroy();
    if (isMissingPath(e)) return new Map();
    throw e;
  }
}
