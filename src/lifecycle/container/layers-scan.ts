/**
 * Reads a buildpack's layers directory (a tar stream from the layers volume) for post-processing without
 * holding layer contents in memory: every entry's path and type is kept, but file contents only for what
 * buildpack.md, "Phase #5: Build", "Layer Content Metadata (TOML)", "Environment Variable Modification Rules", "launch.toml (TOML)", "Software-Bill-of-Materials" needs — top-level files (layer/launch/build/store TOML, SBOM files) and the files of
 * `<layer>/env*` directories. Layers of real buildpacks (JDKs, node_modules) can be hundreds of MB.
 */
import { Readable } from 'node:stream';
import { readTar, type ReadTarEntry } from '../../image/tar-files.js';

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
  const below = (path: string): string | undefined => (path.startsWith(`${root}/`) ? path.slice(root.length + 1) : undefined);
  const entries = await readTar(source, {
    maxBytes: maxMetadataBytes,
    tooLarge: `metadata files of ${root} are larger than ${maxMetadataBytes} bytes`,
    keepContent: (path) => {
      const rel = below(path);
      return rel !== undefined && keepContent(rel);
    },
  });
  const out: ReadTarEntry[] = [];
  for (const e of entries) {
    const rel = below(e.path);
    if (rel !== undefined) out.push({ ...e, path: rel });
  }
  return out;
}
