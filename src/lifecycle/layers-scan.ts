/**
 * Reads a buildpack's layers directory (a tar stream from the layers volume) for post-processing without
 * holding layer contents in memory: every entry's path and type is kept, but file contents only for what
 * digest 7.1-7.5 needs — top-level files (layer/launch/build/store TOML, SBOM files) and the files of
 * `<layer>/env*` directories. Layers of real buildpacks (JDKs, node_modules) can be hundreds of MB.
 */
import { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { safeEntryPath, UnsafeTarEntryError, type ReadTarEntry } from '../image/tar-files.js';

/** Whether the content of `rel` (relative to the buildpack dir) is needed by post-processing. */
export function isMetadataPath(rel: string): boolean {
  const parts = rel.split('/');
  if (parts.length === 1) return true;
  return parts.length === 3 && /^env(\.build|\.launch)?$/.test(parts[1] ?? '');
}

/** Entries below `root/` (the tar's root element), with paths relative to it; `root` itself is dropped. */
export function scanLayersDir(source: Readable, root: string, maxMetadataBytes = 64 * 1024 * 1024): Promise<ReadTarEntry[]> {
  return scanTar(source, root, isMetadataPath, maxMetadataBytes);
}

/**
 * Every entry below `root/` (paths relative to it), with file contents only where `keepContent(path)`
 * says so; other files come back with an empty content.
 */
export async function scanTar(source: Readable, root: string, keepContent: (rel: string) => boolean, maxMetadataBytes: number): Promise<ReadTarEntry[]> {
  const extract = tarStream.extract();
  const out: ReadTarEntry[] = [];
  let total = 0;
  await new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const safe = safeEntryPath(header.name);
      if (safe === undefined) {
        stream.resume();
        reject(new UnsafeTarEntryError(header.name));
        return;
      }
      const rel = safe.startsWith(`${root}/`) ? safe.slice(root.length + 1) : undefined;
      const type = header.type ?? 'file';
      const keep = rel !== undefined && type === 'file' && keepContent(rel);
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        if (!keep || !Buffer.isBuffer(c)) return;
        total += c.length;
        if (total > maxMetadataBytes) {
          reject(new Error(`metadata files of ${root} are larger than ${maxMetadataBytes} bytes`));
          stream.destroy();
          return;
        }
        chunks.push(c);
      });
      stream.on('end', () => {
        if (rel !== undefined) {
          out.push({
            path: rel,
            type,
            mode: header.mode ?? 0,
            uid: header.uid ?? 0,
            gid: header.gid ?? 0,
            ...(header.linkname ? { linkname: header.linkname } : {}),
            content: Buffer.concat(chunks),
          });
        }
        next();
      });
      stream.on('error', reject);
    });
    extract.on('finish', () => resolve());
    extract.on('error', reject);
    source.on('error', reject);
    source.pipe(extract);
  });
  return out;
}
