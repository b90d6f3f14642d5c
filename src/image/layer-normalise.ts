/**
 * The one place that decides what a source tar entry becomes in a reproducible layer (platform.md, "Build Reproducibility"):
 * normaliseTarStream (tar-stream entries) and the fast re-header Transform (layer-reheader.ts) both
 * map entries through EntryMapper, so the two cannot disagree about names, types, hard links or what
 * is skipped.
 */
import { safeEntryPath, UnsafeTarEntryError } from './tar-files.js';

export type LayerEntryType = 'file' | 'directory' | 'symlink' | 'link' | 'fifo';

/** A parent directory entry written before the layer's own entries (platform.md, "Build Reproducibility": real owner/mode). */
export interface ParentDir {
  /** Absolute in-image path, e.g. /layers or /layers/example_node. */
  path: string;
  uid: number;
  gid: number;
  mode: number;
}

export interface LayerPlacement {
  /** Absolute in-image path where the source's root lands, e.g. /layers/example_node/node. */
  prefix: string;
  /** Owner of the root entry and everything below it (the CNB user for buildpack layers). */
  uid: number;
  gid: number;
  /** Written first, in the given order (callers list them top-down: /layers, /layers/<bp>). */
  parents?: ParentDir[];
  /** Paths relative to the root ('bin/x'; never '.') to leave out, with everything below them. */
  exclude?: (relPath: string) => boolean;
}

export interface TarStreamOptions extends LayerPlacement {
  /**
   * The source tar's first path element is the directory's basename (what a container's getArchive
   * returns: `node/`, `node/bin/x`) and is replaced by `prefix`. Default true; false for tars whose
   * entries are relative to the root (`./bin/x`, `bin/x`).
   */
  stripRoot?: boolean;
}

/** A layer entry without its content (a file's content is the source entry's, `size` bytes). */
export interface MappedEntry {
  /** Path inside the tar, '/'-separated, no leading slash: `layers/example_node/node/bin/x`. */
  path: string;
  type: LayerEntryType;
  /** Permission bits (0o7777 mask), no file-type bits. */
  mode: number;
  uid: number;
  gid: number;
  /** Symlink target (verbatim), or for a hard link the tar path of the linked file. */
  linkname?: string;
  /** Content size of a file. */
  size?: number;
}

/** The fields of a source header the mapping looks at (tar-stream's decoded header fits). */
export interface SourceHeader {
  name: string;
  type: string | null | undefined;
  mode: number | null | undefined;
  size: number | null | undefined;
  linkname: string | null | undefined;
}

export function placementRoot(prefix: string): string {
  const p = safeEntryPath(prefix);
  if (p === undefined) throw new UnsafeTarEntryError(prefix);
  return p;
}

export function tarPathOf(prefixPath: string, rel: string): string {
  if (rel === '.') return prefixPath;
  return prefixPath === '.' ? rel : `${prefixPath}/${rel}`;
}

/** exclude(rel) for the entry or any of its ancestors (an excluded directory takes its subtree). */
export function isExcluded(rel: string, exclude: ((relPath: string) => boolean) | undefined): boolean {
  if (exclude === undefined) return false;
  const parts = rel.split('/');
  for (let i = 1; i <= parts.length; i++) if (exclude(parts.slice(0, i).join('/'))) return true;
  return false;
}

export function parentEntries(parents: ParentDir[] | undefined): MappedEntry[] {
  const out: MappedEntry[] = [];
  for (const d of parents ?? []) {
    const path = safeEntryPath(d.path);
    if (path === undefined) throw new UnsafeTarEntryError(d.path);
    if (path === '.') continue;
    out.push({ path, type: 'directory', mode: d.mode, uid: d.uid, gid: d.gid });
  }
  return out;
}

/**
 * Maps the source's entries, in source order, to layer entries placed at `prefix`. Owner becomes
 * uid/gid for every entry; mode bits are kept; symlinks keep their target; hard links are re-pointed
 * under `prefix` (a link to an excluded or not-yet-seen file is an error); devices and unknown types
 * are skipped (undefined); an entry outside the root (../, or not under the root element) throws
 * UnsafeTarEntryError.
 */
export class EntryMapper {
  private readonly root: string;
  private readonly stripRoot: boolean;
  private sourceRoot: string | undefined;
  private readonly written = new Set<string>();

  constructor(private readonly opts: TarStreamOptions) {
    this.root = placementRoot(opts.prefix);
    this.stripRoot = opts.stripRoot ?? true;
  }

  parents(): MappedEntry[] {
    return parentEntries(this.opts.parents);
  }

  private relOf(name: string): string {
    const safe = safeEntryPath(name);
    if (safe === undefined) throw new UnsafeTarEntryError(name);
    if (!this.stripRoot) return safe;
    if (this.sourceRoot === undefined) this.sourceRoot = safe.split('/')[0] ?? safe;
    if (safe === this.sourceRoot) return '.';
    if (this.sourceRoot === '.') return safe;
    if (!safe.startsWith(`${this.sourceRoot}/`)) throw new UnsafeTarEntryError(name);
    return safe.slice(this.sourceRoot.length + 1);
  }

  /** The layer entry for one source header, or undefined when it is left out. */
  map(h: SourceHeader): MappedEntry | undefined {
    const rel = this.relOf(h.name);
    const excluded = rel !== '.' && isExcluded(rel, this.opts.exclude);
    const path = tarPathOf(this.root, rel);
    if (excluded || path === '.') return undefined;
    const base = { path, mode: (h.mode ?? 0) & 0o7777, uid: this.opts.uid, gid: this.opts.gid };
    const t = h.type;
    if (t === 'file' || t === 'contiguous-file' || t === undefined || t === null) {
      this.written.add(path);
      return { ...base, type: 'file', size: h.size ?? 0 };
    }
    if (t === 'directory') return { ...base, type: 'directory' };
    if (t === 'symlink') return { ...base, type: 'symlink', linkname: h.linkname ?? '' };
    if (t === 'link') {
      const target = tarPathOf(this.root, this.relOf(h.linkname ?? ''));
      if (!this.written.has(target)) throw new Error(`tar entry ${h.name}: hard link to ${h.linkname ?? ''}, which is not in the layer`);
      return { ...base, type: 'link', linkname: target };
    }
    if (t === 'fifo') return { ...base, type: 'fifo' };
    // character/block devices (and anything unknown) are skipped: they cannot be part of a layer we own
    return undefined;
  }
}
