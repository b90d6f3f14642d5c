/**
 * A layer tar with some paths taken out, everything else kept as it was (owners, modes, times, pax
 * records such as xattrs). Used for extension layers, whose writes under <app>, <layers> and <platform>
 * are not persisted (image_extension.md Dockerfile requirements). Whiteouts of a dropped path and hard
 * links to a dropped file are dropped with it.
 */
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tarStream from 'tar-stream';
import { HashTap } from './digest.js';

/** The entry's path relative to the root, without './', leading or trailing '/'. */
export function layerEntryPath(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/^\/+/, '').replace(/\/+$/, '');
}

/** The path a whiteout entry removes ('a/.wh.b' -> 'a/b'); other paths unchanged. */
export function whitedOutPath(path: string): string {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  return base.startsWith('.wh.') && base !== '.wh..wh..opq' ? `${path.slice(0, slash + 1)}${base.slice(4)}` : path;
}

/** Whether `path` (relative) is one of `roots` (absolute, e.g. /workspace) or below one. */
export function isUnder(path: string, roots: readonly string[]): boolean {
  return roots.some((r) => {
    const root = layerEntryPath(r);
    return path === root || path.startsWith(`${root}/`);
  });
}

export interface FilteredLayer {
  /** `sha256:<hex>` of the written tar. */
  diffId: string;
  size: number;
  /** How many entries were left out. */
  dropped: number;
}

/** Copies the layer tar `source` to `dest` without the entries under `roots`. */
export async function filterLayerToFile(source: Readable, dest: string, roots: readonly string[]): Promise<FilteredLayer> {
  const extract = tarStream.extract();
  const pack = tarStream.pack();
  const tap = new HashTap();
  const written = pipeline(pack, tap, createWriteStream(dest));
  written.catch(() => undefined);
  source.on('error', (e: Error) => extract.destroy(e));
  source.pipe(extract);
  let dropped = 0;
  for await (const entry of extract) {
    const h = entry.header;
    const path = layerEntryPath(h.name);
    const linkTarget = h.type === 'link' && h.linkname !== undefined && h.linkname !== null ? layerEntryPath(h.linkname) : undefined;
    if (isUnder(whitedOutPath(path), roots) || (linkTarget !== undefined && isUnder(linkTarget, roots))) {
      dropped++;
      entry.resume();
      continue;
    }
    await new Promise<void>((resolve, reject) => {
      const sink = pack.entry(h, (err) => (err ? reject(err) : resolve()));
      if (h.type === 'file' || h.type === 'contiguous-file') entry.pipe(sink);
      else entry.resume();
    });
  }
  pack.finalize();
  await written;
  return { diffId: tap.digest(), size: tap.size, dropped };
}
