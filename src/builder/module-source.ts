/**
 * The one reader of module uris (builder.toml [[buildpacks]]/[[extensions]], package.toml [buildpack]/
 * [extension]/[[dependencies]], `kiln build --buildpack/--extension`, project.toml groups): a uri is a
 * local directory, a .tgz/.tar tarball (unpacked into a temp dir), or a package (distribution.md,
 * "Buildpackage"): a .cnb file, `docker://<image>` (pulled under the pull policy when a fetcher is
 * given) or an image name the daemon has. For each module it gives the descriptor text, which
 * executables it has, and a content digest (so two entries with the same id@version can be told apart,
 * platform.md, "Build Image"). A package gives every module it holds (a composite and its members).
 * Errors name the user's file and entry, never kiln's temp dirs.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { lstat, mkdtemp, readFile, readdir, readlink, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tarFs from 'tar-fs';
import { ExitCode, KilnError } from '../errors.js';
import { imageRefProblem } from '../image/image-ref.js';
import type { ContainerEngine } from '../ports.js';
import type { BuilderModuleEntry, ModuleKind } from '../cnb/models.js';
import { unpackPackageModules, type UnpackedPackage } from './package-source.js';

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
  /** The entry's key path in its config file, e.g. `buildpacks[2]`, `dependencies[0]` (default `<kind>s[<index>]`). */
  keyPath?: string;
  /** false for the other modules of a package (its dependencies); the entry's id/version apply to the main one only. */
  main?: boolean;
}

/** Where a module uri comes from and where its temp files go. */
export interface ModuleUriOptions {
  /** Relative paths and file:// uris are relative to this directory (the config file's, or the cwd for flags). */
  configDir: string;
  /** The user's file (or flag) the uri comes from: named in every error. */
  configFile: string;
  /** How the entry is named in errors: `buildpacks[2]`, `dependencies[0]`, `--buildpack` (default `<kind>s[<index>]`). */
  keyPath?: string;
  /** Tarballs and packages are unpacked below it; the caller removes it. */
  tmpRoot: string;
  /** Reads package images (and bare image names); without it only files and directories are read. */
  engine?: ContainerEngine;
  /** Pulls a docker:// image under the pull policy (ImageFetcher.ensure); without it the daemon must have it. */
  fetchImage?: (ref: string) => Promise<unknown>;
}

const TARBALL = /\.(tgz|tar\.gz|tar)$/i;

function uriError(entry: BuilderModuleEntry, kind: ModuleKind, cause: string, opts: ModuleUriOptions, index: number): KilnError {
  const keyPath = opts.keyPath ?? `${kind}s[${index}]`;
  // A flag (--path, --buildpack) is named as itself; an entry as its key path in the user's file.
  const flag = keyPath.startsWith('-');
  const where = flag ? keyPath : `${keyPath} in ${opts.configFile}`;
  const kinds = 'kiln reads local directories, .tgz/.tar files, .cnb packages, docker://<image> packages (pulled under --pull-policy) and package images in the daemon';
  return new KilnError({
    action: `read ${kind} ${entry.id !== '' ? entry.id : entry.uri} (${where})`,
    cause,
    hint: `check ${flag ? keyPath : `the uri of ${where}`}: ${kinds}${flag ? '' : ` (relative paths are relative to ${opts.configDir})`}`,
    exitCode: ExitCode.config,
    subject: opts.configFile,
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

/** A message about something below `into`, with the temp dir replaced by the user's uri. */
function scrub(message: string, into: string, uri: string): string {
  return message.split(into).join(`${uri}!`);
}

async function moduleSource(entry: BuilderModuleEntry, kind: ModuleKind, index: number, opts: ModuleUriOptions, dir: string, shownAs: string, main: boolean): Promise<ModuleSource> {
  const descriptorName = `${kind}.toml`;
  const descriptorFile = join(dir, descriptorName);
  const descriptorText = (await isFile(descriptorFile)) ? await readFile(descriptorFile, 'utf8') : undefined;
  return {
    kind,
    entry: main ? entry : { id: '', version: '', uri: entry.uri },
    index,
    dir,
    descriptorFile: shownAs === dir ? descriptorFile : `${shownAs}/${descriptorName}`,
    descriptorText,
    hasDetect: await isFile(join(dir, 'bin', 'detect')),
    hasBuild: await isFile(join(dir, 'bin', 'build')),
    hasGenerate: await isFile(join(dir, 'bin', 'generate')),
    hasGenerateDir: await isDir(join(dir, 'generate')),
    contentDigest: await treeDigest(dir),
    ...(opts.keyPath !== undefined ? { keyPath: opts.keyPath } : {}),
    main,
  };
}

/**
 * Reads the modules one uri names: one for a directory or tarball; every module of a package (the
 * main one first; `main` is false on the others). Tarballs and packages are unpacked below
 * opts.tmpRoot (the caller removes it). A docker:// image is pulled through opts.fetchImage first (a
 * failed pull keeps its own error and exit code, 5); every other problem is a KilnError with exit
 * code config naming opts.configFile and the entry.
 */
export async function readModuleSources(entry: BuilderModuleEntry, kind: ModuleKind, index: number, opts: ModuleUriOptions): Promise<ModuleSource[]> {
  const fail = (cause: string): KilnError => uriError(entry, kind, cause, opts, index);
  if (entry.uri === '') throw fail('the entry has no uri');
  const docker = /^docker:\/\//i.test(entry.uri) ? entry.uri.slice('docker://'.length) : undefined;
  if (docker === undefined && /^(docker|https?|urn):/i.test(entry.uri)) {
    throw fail(`"${entry.uri}" is not a local path or docker:// image; kiln cannot fetch modules from URLs`);
  }
  // A docker:// uri must be an image reference (image-ref.ts) before anything asks the daemon about it.
  const dockerProblem = docker !== undefined ? imageRefProblem(docker) : undefined;
  if (dockerProblem !== undefined) throw fail(`"${entry.uri}" does not name a valid image reference: ${dockerProblem}`);
  const path = resolveUri(entry.uri, opts.configDir);
  // A bare uri that is no path is tried as an image name only when it is a valid reference.
  const maybeImage = !existsSync(path) && !/^[./]/.test(entry.uri) && imageRefProblem(entry.uri) === undefined && opts.engine !== undefined;
  const image = docker ?? (maybeImage && (await opts.engine?.inspectImage(entry.uri)) !== undefined ? entry.uri : undefined);
  // docker:// packages are pulled under the pull policy (issue 17); a failed pull keeps its exit code (5).
  if (docker !== undefined && opts.fetchImage !== undefined) await opts.fetchImage(docker);
  if (image !== undefined || ((await isFile(path)) && /\.cnb$/i.test(path))) {
    const into = await mkdtemp(join(opts.tmpRoot, `${kind}-`));
    let unpacked: UnpackedPackage;
    try {
      if (image !== undefined) {
        if (opts.engine === undefined) throw new Error('no container engine to read package images with');
        if (opts.fetchImage === undefined && (await opts.engine.inspectImage(image)) === undefined) throw new Error(`image ${image} does not exist in the Docker daemon (and the pull policy is never)`);
        unpacked = await unpackPackageModules(await opts.engine.saveImage(image), kind, entry, into);
      } else unpacked = await unpackPackageModules(createReadStream(path), kind, entry, into);
    } catch (e) {
      throw fail(`cannot read package ${image ?? path}: ${scrub(e instanceof Error ? e.message : String(e), into, entry.uri)}`);
    }
    const ordered = [...(unpacked.main !== undefined ? [unpacked.main] : []), ...unpacked.modules.filter((m) => m !== unpacked.main)];
    return Promise.all(ordered.map((m) => moduleSource(entry, kind, index, opts, m.dir, `${entry.uri}!/${relative(into, m.dir)}`, m === unpacked.main)));
  }
  if (await isDir(path)) return [await moduleSource(entry, kind, index, opts, path, path, true)];
  if ((await isFile(path)) && TARBALL.test(path)) {
    const into = await mkdtemp(join(opts.tmpRoot, `${kind}-`));
    try {
      await unpack(path, into);
    } catch (e) {
      throw fail(`cannot unpack ${path}: ${scrub(e instanceof Error ? e.message : String(e), into, entry.uri)}`);
    }
    const dir = await descriptorRoot(into, `${kind}.toml`);
    const inside = relative(into, dir);
    return [await moduleSource(entry, kind, index, opts, dir, inside === '' ? `${entry.uri}!` : `${entry.uri}!/${inside}`, true)];
  }
  if (existsSync(path)) throw fail(`${path} is neither a directory nor a .tgz/.tar/.cnb file`);
  throw fail(`${path} does not exist`);
}

/** The main module of a uri (readModuleSources' first); an error when a package does not say which one it is. */
export async function readModuleSource(entry: BuilderModuleEntry, kind: ModuleKind, index: number, opts: ModuleUriOptions): Promise<ModuleSource> {
  const [first] = await readModuleSources(entry, kind, index, opts);
  if (first === undefined || first.main === false) {
    throw uriError(entry, kind, `the package ${entry.uri} holds several ${kind}s and does not say which one is its own; name it with id (and version) in the entry`, opts, index);
  }
  return first;
}
