/**
 * Unpacking a buildpack/extension package (distribution.md, "Buildpackage"): the archive is `docker save`
 * of a package image (<hex>/layer.tar entries, or an OCI layout from newer daemons), or a `.cnb` file, an
 * OCI image layout (blobs/sha256/*, layers plain or gzip-compressed, as `kiln … package --format file` or
 * pack write it). Every layer's `cnb/<kind>s/<escaped-id>/<version>/` tree is written below `into`.
 * OCI blobs are not told apart through the manifest: a blob that is a (gzipped) tar is a layer; a JSON
 * blob or file with `config.Labels` is the image config, whose io.buildpacks.buildpackage.metadata names
 * the package's own module (the others are its dependencies).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import * as tarStream from 'tar-stream';
import { readTar, safeEntryPath } from '../image/tar-files.js';
import type { BuilderModuleEntry, ModuleKind } from '../cnb/models.js';
import { escapeId } from '../cnb/paths.js';
import { PACKAGE_METADATA_LABEL } from './builder-labels.js';

async function writeLayer(layer: Readable, prefix: string, into: string): Promise<void> {
  for (const e of await readTar(layer, { maxBytes: 1024 * 1024 * 1024 })) {
    const rel = safeEntryPath(e.path);
    if (rel === undefined || !rel.startsWith(prefix)) continue;
    const dest = join(into, rel);
    if (e.type === 'directory') await mkdir(dest, { recursive: true });
    else if (e.type === 'file') {
      await mkdir(dirname(dest), { recursive: true });
      await writeFile(dest, e.content, { mode: e.mode & 0o777 });
    } else if (e.type === 'symlink' && e.linkname !== undefined && !existsSync(dest)) {
      await mkdir(dirname(dest), { recursive: true });
      await symlink(e.linkname, dest);
    }
  }
}

/** The id/version of io.buildpacks.buildpackage.metadata in an image config's JSON, if it is one. */
function packageMetadataOf(data: Buffer): { id: string; version: string } | undefined {
  try {
    const json = JSON.parse(data.toString('utf8')) as { config?: { Labels?: Record<string, string> | null } };
    const label = json.config?.Labels?.[PACKAGE_METADATA_LABEL];
    if (label === undefined) return undefined;
    const meta = JSON.parse(label) as { id?: unknown; version?: unknown };
    return typeof meta.id === 'string' && typeof meta.version === 'string' ? { id: meta.id, version: meta.version } : undefined;
  } catch {
    return undefined;
  }
}

async function readAll(e: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of e) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** One module found in a package: its escaped id and version (directory names) and its host directory. */
export interface PackagedModule {
  id: string;
  version: string;
  dir: string;
}

export interface UnpackedPackage {
  /** Every module of the package, sorted by id then version. */
  modules: PackagedModule[];
  /** The package's own module: the entry's id (and version), else the package label's, else the only one. */
  main?: PackagedModule;
  /** Why there is no main module (shown when the caller needs one). */
  mainProblem?: string;
}

/** Unpacks every module tree of the archive below `into`. */
export async function unpackPackageModules(archive: Readable, kind: ModuleKind, entry: Pick<BuilderModuleEntry, 'id' | 'version'>, into: string): Promise<UnpackedPackage> {
  const prefix = `cnb/${kind}s/`;
  const extract = tarStream.extract();
  archive.on('error', (e: Error) => extract.destroy(e));
  archive.pipe(extract);
  let meta: { id: string; version: string } | undefined;
  for await (const e of extract) {
    const name = e.header.name;
    if (e.header.type === 'file' && /(^|\/)layer\.tar$/.test(name)) await writeLayer(e as unknown as Readable, prefix, into);
    else if (e.header.type === 'file' && /(^|\/)blobs\/sha256\/[0-9a-f]{64}$/.test(name)) {
      let data = await readAll(e);
      if (data[0] === 0x1f && data[1] === 0x8b) data = gunzipSync(data);
      if (data.length >= 512 && data.subarray(257, 262).toString() === 'ustar') await writeLayer(Readable.from([data]), prefix, into);
      else if (data[0] === 0x7b) meta ??= packageMetadataOf(data);
    } else if (e.header.type === 'file' && /^[0-9a-f]{64}\.json$/.test(name)) meta ??= packageMetadataOf(await readAll(e));
    else e.resume();
  }
  const root = join(into, 'cnb', `${kind}s`);
  const modules: PackagedModule[] = [];
  for (const id of existsSync(root) ? (await readdir(root)).sort() : []) {
    for (const version of (await readdir(join(root, id))).sort()) {
      if (existsSync(join(root, id, version, `${kind}.toml`))) modules.push({ id, version, dir: join(root, id, version) });
    }
  }
  if (modules.length === 0) throw new Error(`the package has no ${prefix}<id>/<version>/${kind}.toml`);
  const named = (id: string, version: string): PackagedModule[] => modules.filter((m) => m.id === escapeId(id) && (version === '' || m.version === version));
  const list = modules.map((m) => `${m.id}@${m.version}`).join(', ');
  if (entry.id !== '') {
    const [only, ...more] = named(entry.id, entry.version);
    if (only === undefined) throw new Error(`the package holds ${list}, not ${entry.id}${entry.version !== '' ? `@${entry.version}` : ''}`);
    if (more.length > 0) return { modules, mainProblem: `the package holds ${list}; name the version to use in the entry` };
    return { modules, main: only };
  }
  const byLabel = meta !== undefined ? named(meta.id, meta.version)[0] : undefined;
  if (byLabel !== undefined) return { modules, main: byLabel };
  if (modules.length === 1) return { modules, main: modules[0] };
  return { modules, mainProblem: `the package holds ${list}; name the one to use with id (and version) in the entry` };
}

/** Unpacks the archive's module trees below `into`; returns the directory of the package's own module. */
export async function unpackPackage(archive: Readable, kind: ModuleKind, entry: BuilderModuleEntry, into: string): Promise<string> {
  const unpacked = await unpackPackageModules(archive, kind, entry, into);
  if (unpacked.main === undefined) throw new Error(unpacked.mainProblem ?? 'the package has no main module');
  return unpacked.main.dir;
}
