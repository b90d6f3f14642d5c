/**
 * The exact size of the reproducible layer tar a directory will become, predicted from a listing of
 * that directory (issue 5): the image archive that docker load reads needs each layer.tar's size in
 * its tar header BEFORE the content, and export wants to stream the layer into the load instead of
 * writing it to a temp file first.
 *
 * The prediction replays what the daemon's archive of the directory holds (a Go filepath.Walk:
 * the root, then depth-first with each directory's names in byte order; sockets left out; a
 * non-directory with several links becomes, from its second occurrence on, a hard link to the first
 * one's path) through the same EntryMapper and the same header encoder as the re-header Transform.
 * Only sizes count: a symlink target is known by its byte length (lstat's st_size), assumed valid
 * UTF-8. Anything the listing cannot settle gives undefined (no prediction); a prediction that is
 * wrong anyway (a name the daemon spells differently, a file changed since the listing) is caught by
 * the caller, which counts the bytes it streams.
 */
import { EntryMapper, type SourceHeader, type TarStreamOptions } from './layer-normalise.js';
import { encodeHeader, END_OF_TAR, paddingOf } from './tar-header.js';

export type ListedKind = 'file' | 'directory' | 'symlink' | 'fifo' | 'char' | 'block' | 'socket' | 'other';

/** One path of a listed directory (what `stat` says about it). */
export interface ListedEntry {
  /** Relative to the listed directory, '/'-separated; '.' is the directory itself. */
  path: string;
  kind: ListedKind;
  /** st_size: a file's content bytes, a symlink's target bytes. */
  size: number;
  nlink: number;
  /** Inode number (the daemon's tar recognises hard links by it). */
  ino: string;
}

const SOURCE_ROOT = 'root';

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '.' : path.slice(0, i);
}

/** The listing in the daemon's walk order; undefined when it is not a tree rooted at '.'. */
export function walkOrder(entries: readonly ListedEntry[]): ListedEntry[] | undefined {
  const root = entries.find((e) => e.path === '.');
  if (root?.kind !== 'directory') return undefined;
  const children = new Map<string, ListedEntry[]>();
  for (const e of entries) {
    if (e.path === '.') continue;
    const parent = parentOf(e.path);
    const list = children.get(parent) ?? [];
    list.push(e);
    children.set(parent, list);
  }
  const out: ListedEntry[] = [];
  const visit = (e: ListedEntry): void => {
    out.push(e);
    if (e.kind !== 'directory') return;
    const kids = (children.get(e.path) ?? []).sort((a, b) => byBytes(baseName(a.path), baseName(b.path)));
    for (const k of kids) visit(k);
  };
  visit(root);
  return out.length === entries.length ? out : undefined;
}

/** What the daemon's tar writes for each entry, as the header the mapper reads. */
function sourceHeaders(ordered: readonly ListedEntry[]): (SourceHeader | undefined)[] | undefined {
  const seen = new Map<string, string>();
  const out: (SourceHeader | undefined)[] = [];
  for (const e of ordered) {
    const name = e.path === '.' ? `${SOURCE_ROOT}/` : `${SOURCE_ROOT}/${e.path}${e.kind === 'directory' ? '/' : ''}`;
    if (e.kind === 'socket') {
      out.push(undefined);
      continue;
    }
    if (e.kind === 'other') return undefined;
    if (e.kind !== 'directory' && e.nlink > 1) {
      const first = seen.get(e.ino);
      if (first !== undefined) {
        out.push({ name, type: 'link', mode: 0, size: 0, linkname: first });
        continue;
      }
      seen.set(e.ino, name);
    }
    const type = { file: 'file', directory: 'directory', symlink: 'symlink', fifo: 'fifo', char: 'character-device', block: 'block-device' }[e.kind];
    out.push({ name, type, mode: 0, size: e.kind === 'file' ? e.size : 0, linkname: e.kind === 'symlink' ? 'x'.repeat(e.size) : null });
  }
  return out;
}

/**
 * Bytes of the layer tar normaliseTarStream/LayerReheader make of the listed directory's archive
 * with these options (which must strip the root, as for a container's archive); undefined when the
 * listing cannot tell, or when the export of it would fail anyway (e.g. a hard link to an excluded
 * file: the ordinary path reports that error).
 */
export function predictLayerTarSize(entries: readonly ListedEntry[], opts: TarStreamOptions): number | undefined {
  if (opts.stripRoot === false) return undefined;
  const ordered = walkOrder(entries);
  const headers = ordered === undefined ? undefined : sourceHeaders(ordered);
  if (headers === undefined) return undefined;
  const mapper = new EntryMapper(opts);
  try {
    let total = END_OF_TAR.length;
    for (const p of mapper.parents()) total += encodeHeader(p).length;
    for (const h of headers) {
      const e = h === undefined ? undefined : mapper.map(h);
      if (e === undefined) continue;
      total += encodeHeader(e).length;
      if (e.type === 'file') total += (e.size ?? 0) + paddingOf(e.size ?? 0);
    }
    return total;
  } catch {
    return undefined;
  }
}
