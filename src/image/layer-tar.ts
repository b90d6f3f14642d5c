/**
 * Reproducible layer tars (platform.md, "Build Reproducibility"), written as a stream: entries flow from their source (a
 * container's archive stream, a host directory, a few generated files) through a tar packer and a
 * sha256 tap into a temp file, one entry at a time, so a 1 GiB layer never sits in memory.
 *
 * Every entry gets mtime 1980-01-01T00:00:01Z, empty uname/gname and the uid/gid its source asks
 * for. Names are the absolute in-image path without the leading slash (`layers/bp/layer/bin/x`):
 * that is how docker's own layer tars spell them, and docker treats both spellings alike.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { HashTap } from './digest.js';
import { EntryMapper, parentEntries, placementRoot, tarPathOf, type LayerPlacement, type MappedEntry, type TarStreamOptions } from './layer-normalise.js';
import { REPRODUCIBLE_MTIME, safeEntryPath, UnsafeTarEntryError, type TarFileEntry } from './tar-files.js';

export type { LayerEntryType, LayerPlacement, ParentDir, TarStreamOptions } from './layer-normalise.js';

/** A layer entry: the mapped header fields (layer-normalise.ts) and, for a file, its content. */
export interface LayerEntry extends MappedEntry {
  /**
   * File content: bytes, or a stream of chunks (a Node Readable, a tar entry stream) consumed when the
   * entry is written, or a function called only then (so files open lazily). A streamed file needs `size`.
   */
  content?: Buffer | AsyncIterable<Uint8Array> | (() => AsyncIterable<Uint8Array>);
}

export interface LayerTarResult {
  /** `sha256:<hex>` of the uncompressed tar. */
  diffId: string;
  /** Tar size in bytes. */
  size: number;
}

/**
 * Writes the entries, in the order given, as an uncompressed tar at `dest` and returns its diffID.
 * Entries are validated (no absolute or escaping names; hard links must point inside the tar). On
 * any failure the partial file is removed.
 */
export async function writeLayerTar(entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>, dest: string): Promise<LayerTarResult> {
  const pack = tarStream.pack();
  const tap = new HashTap();
  const piping = pipeline(pack, tap, createWriteStream(dest));
  // Rejects as soon as the output side fails, so a pending entry cannot wait forever for its callback.
  const outputFailed = piping.then(
    () => new Promise<never>(() => undefined),
    (e: unknown) => Promise.reject(e),
  );
  outputFailed.catch(() => undefined);
  try {
    for await (const entry of entries) {
      await Promise.race([packLayerEntry(pack, checkEntry(entry)), outputFailed]);
    }
    pack.finalize();
    await piping;
  } catch (e) {
    pack.destroy(e instanceof Error ? e : new Error(String(e)));
    await piping.catch(() => undefined);
    await rm(dest, { force: true });
    throw e;
  }
  return { diffId: tap.digest(), size: tap.size };
}

function checkEntry(e: LayerEntry): LayerEntry {
  if (safeEntryPath(e.path) !== e.path || e.path === '.') throw new UnsafeTarEntryError(e.path);
  if (e.type === 'link') {
    const target = e.linkname ?? '';
    if (safeEntryPath(target) !== target || target === '.') throw new UnsafeTarEntryError(`${e.path} -> ${target}`);
  }
  return e;
}

/**
 * Appends one entry to a tar-stream packer with reproducible headers, streaming file content with
 * backpressure; resolves once the packer has taken the whole entry.
 */
export async function packLayerEntry(pack: tarStream.Pack, e: LayerEntry): Promise<void> {
  const header: Partial<tarStream.Header> & { name: string } = {
    // Directories end in '/', as in docker's own layer tars.
    name: e.type === 'directory' ? `${e.path}/` : e.path,
    type: e.type,
    mode: e.mode & 0o7777,
    uid: e.uid,
    gid: e.gid,
    uname: '',
    gname: '',
    mtime: REPRODUCIBLE_MTIME,
  };
  if (e.type === 'symlink' || e.type === 'link') header.linkname = e.linkname ?? '';
  const content = e.content;
  if (e.type !== 'file' || content === undefined || Buffer.isBuffer(content)) {
    const body = e.type === 'file' ? (content as Buffer | undefined) ?? Buffer.alloc(0) : undefined;
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (body !== undefined) pack.entry(header, body, cb);
      else pack.entry(header, cb).end(Buffer.alloc(0));
    });
    return;
  }
  if (e.size === undefined) throw new Error(`layer entry ${e.path}: a streamed file needs its size`);
  header.size = e.size;
  const source = typeof content === 'function' ? content() : content;
  let settle: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const written = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  written.catch(() => undefined);
  const out = pack.entry(header, (err) => (err ? settle?.reject(err) : settle?.resolve()));
  out.on('error', () => undefined); // the same error reaches the entry callback (e.g. "Size mismatch")
  try {
    // The entry sink is a streamx Writable: feed it by hand and honour its backpressure.
    for await (const chunk of source) {
      if (!out.write(chunk)) await drained(out);
    }
    out.end(Buffer.alloc(0));
  } catch (err) {
    out.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
  await written;
}

/** Resolves on 'drain'; rejects when the sink errors or closes first (the packer was destroyed). */
function drained(sink: NodeJS.EventEmitter): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      sink.off('drain', onDrain);
      sink.off('error', onError);
      sink.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onError = (e: Error): void => done(e);
    const onClose = (): void => done(new Error('tar entry closed before it was written'));
    sink.on('drain', onDrain);
    sink.on('error', onError);
    sink.on('close', onClose);
  });
}

/** How layerFromDir sets modes (platform.md, "Buildpacks Directory Layout": builder module files must be readable by every user). */
export type ModePolicy = 'keep' | 'world-readable';

export interface DirLayerOptions extends LayerPlacement {
  modes?: ModePolicy;
  /** Mode of the root entry (default: the host directory's, after the policy). */
  rootMode?: number;
}

function applyPolicy(mode: number, isDir: boolean, policy: ModePolicy): number {
  const m = mode & 0o7777;
  if (policy === 'keep') return m;
  // Readable by all; directories and files executable by anyone get x for all.
  return isDir || (m & 0o111) !== 0 ? m | 0o555 : m | 0o444;
}

/** Byte-wise comparison, like Go's sort of directory names (UTF-16 order differs above U+FFFF). */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}




/**
 * Entries of a host directory placed at `prefix`: parents, the root, then a depth-first walk with
 * each directory's names in byte order (Go's filepath.Walk order, platform.md, "Build Reproducibility"). Files open lazily.
 * Sockets, devices and fifos are skipped; symlinks are kept; files with several links on the same
 * device become one file and hard links to it.
 */
export async function* layerFromDir(hostDir: string, opts: DirLayerOptions): AsyncIterable<LayerEntry> {
  const root = placementRoot(opts.prefix);
  const policy = opts.modes ?? 'keep';
  const { uid, gid } = opts;
  yield* parentEntries(opts.parents);
  const rootStat = await lstat(hostDir);
  if (!rootStat.isDirectory()) throw new Error(`layer source ${hostDir} is not a directory`);
  if (root !== '.') yield { path: root, type: 'directory', mode: opts.rootMode ?? applyPolicy(rootStat.mode, true, policy), uid, gid };
  const seen = new Map<string, string>();
  async function* walk(dir: string, rel: string): AsyncIterable<LayerEntry> {
    const names = (await readdir(dir)).sort(byteOrder);
    for (const name of names) {
      const childRel = rel === '.' ? name : `${rel}/${name}`;
      if (opts.exclude?.(childRel) === true) continue; // skipping a directory skips its subtree
      const full = join(dir, name);
      const st = await lstat(full);
      const path = tarPathOf(root, childRel);
      if (st.isDirectory()) {
        yield { path, type: 'directory', mode: applyPolicy(st.mode, true, policy), uid, gid };
        yield* walk(full, childRel);
      } else if (st.isSymbolicLink()) {
        yield { path, type: 'symlink', mode: st.mode & 0o7777, uid, gid, linkname: await readlink(full) };
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? seen.get(key) : undefined;
        if (first !== undefined) {
          yield { path, type: 'link', mode: applyPolicy(st.mode, false, policy), uid, gid, linkname: first };
          continue;
        }
        if (st.nlink > 1) seen.set(key, path);
        yield { path, type: 'file', mode: applyPolicy(st.mode, false, policy), uid, gid, size: st.size, content: () => createReadStream(full) };
      }
      // sockets, fifos and devices have no place in a layer made from a host directory
    }
  }
  yield* walk(hostDir, '.');
}

/**
 * Entries for a small generated layer (launcher, config, process-type symlinks): paths may be given
 * with or without a leading slash; owner defaults to root; modes default to 0755 (dirs) / 0644.
 */
export function layerFromFiles(files: TarFileEntry[]): LayerEntry[] {
  return files.map((f) => {
    const path = safeEntryPath(f.path);
    if (path === undefined || path === '.') throw new UnsafeTarEntryError(f.path);
    const type = f.type ?? 'file';
    const entry: LayerEntry = { path, type, mode: f.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: f.uid ?? 0, gid: f.gid ?? 0 };
    if (type === 'symlink') entry.linkname = f.linkname ?? '';
    if (type === 'file') entry.content = typeof f.content === 'string' ? Buffer.from(f.content) : (f.content ?? Buffer.alloc(0));
    return entry;
  });
}

/**
 * Re-headers the entries of a tar stream into a reproducible layer placed at `prefix` (platform.md, "Build Reproducibility"):
 * parents first, then the source's entries IN SOURCE ORDER. Sorting would mean buffering the whole
 * layer; the daemon's archives already come in Go filepath.Walk order (depth-first, names sorted per
 * directory), which is the lexical directory-walk order the spec asks for, and the same directory
 * always yields the same order, so diffIDs are stable.
 * Owner becomes uid/gid for every entry; mode bits are kept; symlinks keep their target; hard links
 * are re-pointed under `prefix` (a link to an excluded or not-yet-seen file is an error); devices are
 * skipped; an entry outside the root (../, or not under the root element) throws UnsafeTarEntryError.
 * Each yielded file's content is the live entry stream: consume it before asking for the next entry
 * (writeLayerTar does).
 */
export async function* normaliseTarStream(input: Readable, opts: TarStreamOptions): AsyncIterable<LayerEntry> {
  const mapper = new EntryMapper(opts);
  const extract = tarStream.extract();
  input.on('error', (e: Error) => extract.destroy(e));
  input.pipe(extract);
  try {
    yield* mapper.parents();
    for await (const entry of extract) {
      // tar-stream entries are streamx streams: no readableEnded, so watch for the end from the start.
      const ended = new Promise<void>((resolve) => {
        entry.once('end', () => resolve());
        entry.once('close', () => resolve());
      });
      const out = mapper.map(entry.header);
      // streamx streams are async-iterable at runtime; their typings just do not say so.
      if (out?.type === 'file') yield { ...out, content: entry as unknown as AsyncIterable<Uint8Array> };
      else if (out !== undefined) yield out;
      entry.resume(); // drains what the consumer did not read (skipped entries, non-files)
      await ended;
    }
  } finally {
    if (!extract.destroyed) extract.destroy();
    if (!input.readableEnded) input.destroy();
  }
}
