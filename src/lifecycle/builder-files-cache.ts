/**
 * What readBuilder copies out of a builder image (order/run/stack files, module metadata, operator
 * env), kept on the host by image id: an image id is the digest of its config, which names every
 * layer, so the same id always holds the same /cnb files. A rebuild then reads the builder with one
 * inspect instead of a helper container and five archive requests (issue 5, warm rebuilds).
 * The cache is an optimisation only: a missing, unreadable or foreign file is ignored and rewritten.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReadTarEntry } from '../image/tar-files.js';
import { kilnCacheDir } from '../kiln-cache-dir.js';

/** The archives readBuilder needs; undefined = the path is not in the image. */
export interface BuilderFiles {
  order?: ReadTarEntry[];
  run?: ReadTarEntry[];
  stack?: ReadTarEntry[];
  buildpacks?: ReadTarEntry[];
  extensions?: ReadTarEntry[];
  buildConfigEnv?: ReadTarEntry[];
}

const KEYS = ['order', 'run', 'stack', 'buildpacks', 'extensions', 'buildConfigEnv'] as const;
const VERSION = 1;

/** Only real content-addressed ids are cached (fakes in tests reuse made-up ids). */
function cachePath(imageId: string): string | undefined {
  const m = /^sha256:([0-9a-f]{64})$/.exec(imageId);
  return m === null ? undefined : kilnCacheDir('builders', `${m[1] as string}.json`);
}

interface StoredEntry extends Omit<ReadTarEntry, 'content'> {
  content: string;
}

function toStored(entries: ReadTarEntry[]): StoredEntry[] {
  return entries.map((e) => ({ ...e, content: e.content.toString('base64') }));
}

function fromStored(v: unknown): ReadTarEntry[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: ReadTarEntry[] = [];
  for (const e of v as Partial<StoredEntry>[]) {
    if (typeof e.path !== 'string' || typeof e.type !== 'string' || typeof e.mode !== 'number' || typeof e.content !== 'string') return undefined;
    out.push({ path: e.path, type: e.type, mode: e.mode, uid: e.uid ?? 0, gid: e.gid ?? 0, ...(typeof e.linkname === 'string' ? { linkname: e.linkname } : {}), content: Buffer.from(e.content, 'base64') });
  }
  return out;
}

export async function loadBuilderFiles(imageId: string): Promise<BuilderFiles | undefined> {
  const path = cachePath(imageId);
  if (path === undefined || process.env.KILN_BUILDER_CACHE === '0') return undefined;
  try {
    const data = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    if (data.version !== VERSION || data.imageId !== imageId) return undefined;
    const files: BuilderFiles = {};
    for (const k of KEYS) {
      if (data[k] === undefined || data[k] === null) continue;
      const entries = fromStored(data[k]);
      if (entries === undefined) return undefined;
      files[k] = entries;
    }
    return files;
  } catch {
    return undefined;
  }
}

/** Best effort: a failure to write only means the next build reads the image again. */
export async function saveBuilderFiles(imageId: string, files: BuilderFiles): Promise<void> {
  const path = cachePath(imageId);
  if (path === undefined || process.env.KILN_BUILDER_CACHE === '0') return;
  try {
    const dir = join(path, '..');
    await mkdir(dir, { recursive: true });
    const data: Record<string, unknown> = { version: VERSION, imageId };
    for (const k of KEYS) data[k] = files[k] === undefined ? null : toStored(files[k]);
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(data));
    await rename(tmp, path);
  } catch {
    // ignored (see above)
  }
}
