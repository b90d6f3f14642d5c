/**
 * Small in-memory tar helpers: make a tar from a list of files, read a tar into entries.
 * For metadata-sized content (plans, TOML files, Dockerfiles, scripts), never for layer contents.
 * Reading rejects entries that would escape the tar's root (../, absolute paths after normalisation).
 */
import { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { posix } from 'node:path';
// Loaded for its effect too: tar-stream's PAX codec keeps the bytes of names that are not UTF-8.
import './tar-header.js';

export interface TarFileEntry {
  /** Relative path inside the tar, '/'-separated. */
  path: string;
  type?: 'file' | 'directory' | 'symlink';
  content?: Buffer | string;
  /** Symlink target. */
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

/** The fixed mtime of reproducible tars (platform.md, "Build Reproducibility"): 1980-01-01T00:00:01Z. */
export const REPRODUCIBLE_MTIME = new Date('1980-01-01T00:00:01Z');

/**
 * The entries, each preceded by directory entries (0755, the given owner) for its parents that no earlier
 * entry has listed: what a tar extracted into a volume needs when only files are known.
 */
export function withParentDirs(files: TarFileEntry[], owner: { uid?: number; gid?: number } = {}): TarFileEntry[] {
  const dirs = new Set<string>();
  const out: TarFileEntry[] = [];
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (dirs.has(d)) continue;
      dirs.add(d);
      out.push({ path: d, type: 'directory', mode: 0o755, ...owner });
    }
    out.push(f);
  }
  return out;
}

/** A tar (Buffer) holding the given entries, in the given order, with reproducible headers. */
export async function makeTar(entries: TarFileEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header: Partial<tarStream.Header> & { name: string } = {
      name: e.path,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      uname: '',
      gname: '',
      mtime: REPRODUCIBLE_MTIME,
    };
    if (type === 'symlink') header.linkname = e.linkname ?? '';
    const body = type === 'file' ? (typeof e.content === 'string' ? Buffer.from(e.content) : (e.content ?? Buffer.alloc(0))) : undefined;
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) pack.entry(header, body, cb);
      else pack.entry(header, cb).end(Buffer.alloc(0));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface ReadTarEntry {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  linkname?: string;
  content: Buffer;
  /** A regular file's size in the tar (its content may have been left out: ReadTarOptions.keepContent). */
  size?: number;
}

/** Normalises a tar entry name; returns undefined when it escapes the root. */
export function safeEntryPath(name: string): string | undefined {
  const norm = posix.normalize(name.replace(/^\.\/+/, '').replace(/^\/+/, ''));
  if (norm === '.' || norm === '') return '.';
  if (norm.startsWith('../') || norm === '..') return undefined;
  return norm.replace(/\/+$/, '');
}

export class UnsafeTarEntryError extends Error {
  constructor(readonly entryName: string) {
    super(`tar entry "${entryName}" escapes its root`);
    this.name = 'UnsafeTarEntryError';
  }
}

/** A read entry as an entry to write again, at `path` (default: where it was). */
export function toTarFileEntry(e: ReadTarEntry, path: string = e.path): TarFileEntry {
  return {
    path,
    type: e.type === 'directory' ? 'directory' : e.type === 'symlink' ? 'symlink' : 'file',
    content: e.content,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
  };
}

export interface ReadTarOptions {
  /** Bounds the total content size kept (an Error is thrown past it). */
  maxBytes?: number;
  /** Keep the content of this regular file? Others come back with an empty content (default: all). */
  keepContent?: (path: string) => boolean;
  /** Error message past maxBytes. */
  tooLarge?: string;
}

/**
 * Reads every entry of a tar stream into memory (directories and symlinks included, contents as
 * Buffers, or only those keepContent selects, so large files are streamed past, not held).
 */
export async function readTar(source: Readable | Buffer, opts: ReadTarOptions = {}): Promise<ReadTarEntry[]> {
  const max = opts.maxBytes ?? 64 * 1024 * 1024;
  const extract = tarStream.extract();
  const out: ReadTarEntry[] = [];
  let total = 0;
  const input = Buffer.isBuffer(source) ? Readable.from([source]) : source;
  await new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const safe = safeEntryPath(header.name);
      if (safe === undefined) {
        stream.resume();
        reject(new UnsafeTarEntryError(header.name));
        return;
      }
      const keep = opts.keepContent === undefined || ((header.type ?? 'file') === 'file' && opts.keepContent(safe));
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        if (!keep || !Buffer.isBuffer(c)) return;
        total += c.length;
        if (total > max) {
          reject(new Error(opts.tooLarge ?? `tar is larger than ${max} bytes`));
          stream.destroy();
          return;
        }
        chunks.push(c);
      });
      stream.on('end', () => {
        const linkname = header.linkname ?? undefined;
        out.push({
          path: safe,
          type: header.type ?? 'file',
          mode: header.mode ?? 0,
          uid: header.uid ?? 0,
          gid: header.gid ?? 0,
          ...(linkname ? { linkname } : {}),
          content: Buffer.concat(chunks),
          ...((header.type ?? 'file') === 'file' ? { size: header.size ?? 0 } : {}),
        });
        next();
      });
      stream.on('error', reject);
    });
    extract.on('finish', () => resolve());
    extract.on('error', reject);
    input.on('error', reject);
    input.pipe(extract);
  });
  return out;
}

/** Regular files of a tar as a map from relative path to content. */
export async function readTarFiles(source: Readable | Buffer, opts: { maxBytes?: number } = {}): Promise<Map<string, Buffer>> {
  const entries = await readTar(source, opts);
  const files = new Map<string, Buffer>();
  for (const e of entries) if (e.type === 'file') files.set(e.path, e.content);
  return files;
}
