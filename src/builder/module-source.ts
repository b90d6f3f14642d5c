/**
 * Reading one builder.toml module entry from disk: its uri is a local directory or a .tgz/.tar/.cnb-less
 * tarball (unpacked into a temp dir); its descriptor text, which executables it has, and a content
 * digest (so two entries with the same id@version can be told apart, platform.md, "Build Image").
 * Packages (distribution.md, "Buildpackage", `kiln buildpack package`) are read too: a .cnb file, or `docker://<image>` /
 * an image name the daemon has (when an engine is given); their module layer is unpacked into a temp
 * dir (package-source.ts). Registry references are not pulled: kiln never pulls.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { lstat, mkdtemp, readFile, readdir, readlink, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tarFs from 'tar-fs';
import { ExitCode, KilnError } from '../errors.js';
import { imageRefProblem } from '../image/image-ref.js';
import type { ContainerEngine } from '../ports.js';
import type { BuilderModuleEntry, ModuleKind } from '../cnb/models.js';
import { unpackPackage } from './package-source.js';

/** A module read from disk, before its descriptor is parsed (builder-plan.ts does that, purely). */
export interface ModuleSource {
  kind: ModuleKind;
  entry: BuilderModuleEntry;
  /** Index of the entry in builder.toml's [[buildpacks]] / [[extensions]]. */
  index: number;
  /** Host directory holding buildpack.toml / extension.toml. */
  dir: string;
  /** Path of the descriptor, as shown in errors. */
  descriptorFile: string;
  /** undefined when the descriptor file is missing. */
  descriptorText: string | undefined;
  hasDetect: boolean;
  hasBuild: boolean;
  hasGenerate: boolean;
  /** A `generate/` directory (static Dockerfiles, image_extension.md, "extension.toml (TOML)"). */
  hasGenerateDir: boolean;
  /** sha256 over every path, type, executable bit and content under dir. */
  contentDigest: string;
}

const TARBALL = /\.(tgz|tar\.gz|tar)$/i;

function uriError(entry: BuilderModuleEntry, kind: ModuleKind, cause: string, configFile: string): KilnError {
  return new KilnError({
    action: `read ${kind} ${entry.id !== '' ? entry.id : entry.uri}`,
    cause,
    hint: `check the uri in ${configFile}: kiln reads local directories, .tgz/.tar files, .cnb packages and package images in the daemon (relative paths are relative to builder.toml)`,
    exitCode: ExitCode.config,
    subject: configFile,
  });
}

/** Resolves an entry's uri to a host path (file:// and relative paths are relative to builder.toml). */
export function resolveUri(uri: string, configDir: string): string {
  const path = uri.startsWith('file://') ? decodeURIComponent(uri.slice('file://'.length)) : uri;
  return isAbsolute(path) ? path : resolve(configDir, path);
}

async function unpack(tarball: string, into: string): Promise<void> {
  const extract = tarFs.extract(into, {
    // Module files are re-owned and re-moded by the layer writer; keep the archive's exec bits only.
    readable: true,
    ignore: (_name, header) => header !== undefined && header.type !== 'file' && header.type !== 'directory' && header.type !== 'symlink',
  });
  if (/\.(tgz|tar\.gz)$/i.test(tarball)) await pipeline(createReadStream(tarball), createGunzip(), extract);
  else await pipeline(createReadStream(tarball), extract);
}

/** The directory holding the descriptor: the unpack root, or its only subdirectory (npm-pack style). */
async function descriptorRoot(dir: string, descriptorName: string): Promise<string> {
  if (existsSync(join(dir, descriptorName))) return dir;
  const names = await readdir(dir);
  if (names.length === 1 && names[0] !== undefined && (await stat(join(dir, names[0]))).isDirectory()) {
    const inner = join(dir, names[0]);
    if (existsSync(join(inner, descriptorName))) return inner;
  }
  return dir;
}

/** Hash of the tree: sorted paths with type, exec bit and content (or link target). */
export async function treeDigest(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (host: string, rel: string): Promise<void> => {
    for (const name of (await readdir(host)).sort()) {
      const p = join(host, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(p);
      if (st.isDirectory()) {
        hash.update(`d ${r}\n`);
        await walk(p, r);
      } else if (st.isSymbolicLink()) {
        hash.update(`l ${r} ${await readlink(p)}\n`);
      } else if (st.isFile()) {
        const content = await readFile(p);
        hash.update(`f ${r} ${(st.mode & 0o111) !== 0 ? 'x' : '-'} ${content.length}\n`);
        hash.update(content);
      }
    }
  };
  await walk(dir, '');
  return `sha256:${hash.digest('hex')}`;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Reads one module entry. Tarballs are unpacked below tmpRoot (the caller removes it).
 * Throws a KilnError (exit code config) for a uri that is not a readable directory or tarball.
 */
export async function readModuleSource(
  entry: BuilderModuleEntry,
  kind: ModuleKind,
  index: number,
  opts: { configDir: string; configFile: string; tmpRoot: string; engine?: ContainerEngine; fetchImage?: (ref: string) => Promise<unknown> },
): Promise<ModuleSource> {
  if (entry.uri === '') throw uriError(entry, kind, 'the entry has no uri', opts.configFile);
  const docker = /^docker:\/\//i.test(entry.uri) ? entry.uri.slice('docker://'.length) : undefined;
  if (docker === undefined && /^(docker|https?|urn):/i.test(entry.uri)) {
    throw uriError(entry, kind, `"${entry.uri}" is not a local path; kiln cannot fetch modules from registries or URLs`, opts.configFile);
  }
  // A docker:// uri must be an image reference (image-ref.ts) before anything asks the daemon about it.
  const dockerProblem = docker !== undefined ? imageRefProblem(docker) : undefined;
  if (dockerProblem !== undefined) throw uriError(entry, kind, `"${entry.uri}" does not name a valid image reference: ${dockerProblem}`, opts.configFile);
  const path = resolveUri(entry.uri, opts.configDir);
  const descriptorName = `${kind}.toml`;
  let dir: string;
  // A bare uri that is no path is tried as an image name only when it is a valid reference.
  const maybeImage = !existsSync(path) && !/^[./]/.test(entry.uri) && imageRefProblem(entry.uri) === undefined && opts.engine !== undefined;
  const image = docker ?? (maybeImage && (await opts.engine?.inspectImage(entry.uri)) !== undefined ? entry.uri : undefined);
  // docker:// packages are pulled under the pull policy (issue 17); a failed pull keeps its exit code (5).
  if (docker !== undefined && opts.fetchImage !== undefined) await opts.fetchImage(docker);
  if (image !== undefined || ((await isFile(path)) && /\.cnb$/i.test(path))) {
    const into = await mkdtemp(join(opts.tmpRoot, `${kind}-`));
    try {
      if (image !== undefined) {
        if (opts.engine === undefined) throw new Error('no container engine to read package images with');
        if (opts.fetchImage === undefined && (await opts.engine.inspectImage(image)) === undefined) throw new Error(`image ${image} does not exist in the Docker daemon (and the pull policy is never)`);
        dir = await unpackPackage(await opts.engine.saveImage(image), kind, entry, into);
      } else dir = await unpackPackage(createReadStream(path), kind, entry, into);
    } catch (e) {
      throw uriError(entry, kind, `cannot read package ${image ?? path}: ${e instanceof Error ? e.message : String(e)}`, opts.configFile);
    }
  } else if (await isDir(path)) {
    dir = path;
  } else if ((await isFile(path)) && TARBALL.test(path)) {
    const into = await mkdtemp(join(opts.tmpRoot, `${kind}-`));
    try {
      await unpack(path, into);
    } catch (e) {
      throw uriError(entry, kind, `cannot unpack ${path}: ${e instanceof Error ? e.message : String(e)}`, opts.configFile);
    }
    dir = await descriptorRoot(into, descriptorName);
  } else if (existsSync(path)) {
    throw uriError(entry, kind, `${path} is neither a directory nor a .tgz/.tar file`, opts.configFile);
  } else {
    throw uriError(entry, kind, `${path} does not exist`, opts.configFile);
  }
  const descriptorFile = join(dir, descriptorName);
  const descriptorText = (await isFile(descriptorFile)) ? await readFile(descriptorFile, 'utf8') : undefined;
  return {
    kind,
    entry,
    index,
    dir,
    descriptorFile,
    descriptorText,
    hasDetect: await isFile(join(dir, 'bin', 'detect')),
    hasBuild: await isFile(join(dir, 'bin', 'build')),
    hasGenerate: await isFile(join(dir, 'bin', 'generate')),
    hasGenerateDir: await isDir(join(dir, 'generate')),
    contentDigest: await treeDigest(dir),
  };
}
