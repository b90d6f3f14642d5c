/**
 * Reads a builder image into typed models (docs/architecture.md, "The data flow of one build", step 3): the image is inspected once,
 * and /cnb/order.toml, /cnb/run.toml (or the legacy stack.toml), the module trees and the operator env
 * (/cnb/build-config/env) are copied out of one created — never started — labelled container, or taken
 * from the host cache of an image id read before (builder-files-cache.ts).
 */
import { ExitCode, KilnError } from '../errors.js';
import { readTar, type ReadTarEntry } from '../image/tar-files.js';
import type { ImageInfo } from '../ports.js';
import { parseBuildpackDescriptor } from '../cnb/buildpack-descriptor.js';
import { parseExtensionDescriptor } from '../cnb/extension-descriptor.js';
import type { BuildpackDescriptor, ExtensionDescriptor, OrderFile, RunImageRef } from '../cnb/models.js';
import { parseOrderFile } from '../cnb/order.js';
import { parseRunFile, parseStackFile } from '../cnb/run-file.js';
import { throwOnErrors } from '../cnb/spec-error.js';
import type { EnvFile } from './build-env.js';
import { scanTar } from './container/layers-scan.js';
import { parseImageEnv } from './container/module-env.js';
import { BUILDPACKS_DIR, EXTENSIONS_DIR, type CnbUser, type PhaseContext } from './phase-context.js';
import { BUILD_CONFIG_ENV_DIR, CNB_DIR, ORDER_TOML, RUN_TOML, STACK_TOML } from '../cnb/paths.js';
import { createHelperContainer } from './container/helper-run.js';
import { isMissingPath } from './container/volume-io.js';
import { loadBuilderFiles, saveBuilderFiles, type BuilderFiles } from './builder-files-cache.js';

interface ModuleBase {
  /** Directory in builder containers: /cnb/buildpacks/<escaped-id>/<version>. */
  dir: string;
  /** The module files kiln reads (descriptor, detect/plan.toml, generate/**), by path relative to the dir. */
  files: Map<string, Buffer>;
  hasDetect: boolean;
}

export interface BuilderBuildpack extends ModuleBase {
  kind: 'buildpack';
  descriptor: BuildpackDescriptor;
  hasBuild: boolean;
}

export interface BuilderExtension extends ModuleBase {
  kind: 'extension';
  descriptor: ExtensionDescriptor;
  hasGenerate: boolean;
}

export type BuilderModule = BuilderBuildpack | BuilderExtension;

export interface BuilderInfo {
  /** The reference the user gave. */
  image: string;
  info: ImageInfo;
  user: CnbUser;
  /** The image's ENV as "K=V" strings. */
  env: string[];
  order: OrderFile;
  /** run.toml images (or stack.toml's run-image); may be empty. */
  runImages: RunImageRef[];
  /** Keyed by `id@version`. */
  buildpacks: Map<string, BuilderBuildpack>;
  extensions: Map<string, BuilderExtension>;
  /** Regular files of /cnb/build-config/env (operator env, buildpack.md, "Environment Variable Modification Rules"). */
  buildConfigEnv: EnvFile[];
}

export function moduleKey(id: string, version: string): string {
  return `${id}@${version}`;
}

/** CNB_USER_ID / CNB_GROUP_ID from the image env; a missing, invalid or root user is refused (platform.md, "Build Image"). */
export function cnbUserOf(image: string, env: readonly string[]): CnbUser {
  const vars = parseImageEnv(env);
  const num = (name: string): number => {
    const v = vars[name];
    const n = v !== undefined && /^\d+$/.test(v) ? Number(v) : NaN;
    if (Number.isNaN(n)) {
      throw new KilnError({
        action: `read builder ${image}`,
        cause: `the image has no valid ${name} in its environment`,
        hint: 'a build image must set CNB_USER_ID and CNB_GROUP_ID (buildpacks/spec platform.md, "Build Image")',
        exitCode: ExitCode.config,
      });
    }
    return n;
  };
  const uid = num('CNB_USER_ID');
  const gid = num('CNB_GROUP_ID');
  if (uid === 0) {
    throw new KilnError({ action: `read builder ${image}`, cause: 'CNB_USER_ID is 0 (root); modules never run as root', exitCode: ExitCode.config });
  }
  return { uid, gid };
}

/** Module files whose content kiln reads: descriptors, static detect plans, static generate outputs. */
export function isModuleMetadata(rel: string): boolean {
  const parts = rel.split('/');
  if (parts.length < 3) return true;
  const inModule = parts.slice(2).join('/');
  return inModule === 'buildpack.toml' || inModule === 'extension.toml' || inModule === 'detect/plan.toml' || inModule.startsWith('generate/');
}

/**
 * The archive of `path` with entries relative to its parent, as readTar gives them. Module trees can be
 * large (real buildpacks ship binaries), so only metadata contents are kept (layers-scan.ts).
 */
async function archive(ctx: PhaseContext, id: string, path: string, modules = false): Promise<ReadTarEntry[] | undefined> {
  const root = path.slice(path.lastIndexOf('/') + 1);
  try {
    const tar = await ctx.engine.getArchive(id, path);
    if (!modules) return await readTar(tar, { maxBytes: 64 * 1024 * 1024 });
    const entries = await scanTar(tar, root, isModuleMetadata, 256 * 1024 * 1024);
    return entries.map((e) => ({ ...e, path: `${root}/${e.path}` }));
  } catch (e) {
    if (isMissingPath(e)) return undefined;
    throw e;
  }
}

function fileText(entries: ReadTarEntry[] | undefined, path: string): string | undefined {
  const e = entries?.find((x) => x.path === path && x.type === 'file');
  return e?.content.toString('utf8');
}

/**
 * Groups the entries of a /cnb/buildpacks or /cnb/extensions tar (root "buildpacks"/"extensions") by
 * module dir "<root>/<escaped-id>/<version>".
 */
function groupModules(entries: ReadTarEntry[]): Map<string, ReadTarEntry[]> {
  const out = new Map<string, ReadTarEntry[]>();
  for (const e of entries) {
    const parts = e.path.split('/');
    if (parts.length < 4) continue;
    const key = parts.slice(0, 3).join('/');
    const rel = parts.slice(3).join('/');
    const list = out.get(key) ?? [];
    list.push({ ...e, path: rel });
    out.set(key, list);
  }
  return out;
}

function isExecutableEntry(entries: ReadTarEntry[], path: string): boolean {
  return entries.some((e) => e.path === path && (e.type === 'file' || e.type === 'symlink'));
}

function filesOf(entries: ReadTarEntry[]): Map<string, Buffer> {
  return new Map(entries.filter((e) => e.type === 'file' && isModuleMetadata(`x/y/${e.path}`)).map((e) => [e.path, e.content]));
}

/** Copies the files readBuilder needs out of one created (never started) container, all at once. */
async function fetchBuilderFiles(ctx: PhaseContext, info: ImageInfo, user: CnbUser): Promise<BuilderFiles> {
  const id = await createHelperContainer(ctx, { image: info.id, user: `${user.uid}:${user.gid}` });
  try {
    const sources: Array<[keyof BuilderFiles, string, boolean]> = [
      ['order', ORDER_TOML, false],
      ['run', RUN_TOML, false],
      ['stack', STACK_TOML, false],
      ['buildpacks', BUILDPACKS_DIR, true],
      ['extensions', EXTENSIONS_DIR, true],
      ['buildConfigEnv', BUILD_CONFIG_ENV_DIR, false],
    ];
    const files: BuilderFiles = {};
    await Promise.all(
      sources.map(async ([key, path, modules]) => {
        const entries = await archive(ctx, id, path, modules);
        if (entries !== undefined) files[key] = entries;
      }),
    );
    return files;
  } finally {
    await ctx.engine.removeContainer(id);
  }
}

/**
 * Inspects and reads the builder image (its files come from the host cache when this image id was read
 * before, builder-files-cache.ts). Throws exit 5 for a missing image, 2 for unusable files. `inspected`:
 * the image's inspect, when the caller has it already (a pull under the policy returns it).
 */
export async function readBuilder(ctx: PhaseContext, image: string, inspected?: ImageInfo): Promise<BuilderInfo> {
  const info = inspected ?? (await ctx.engine.inspectImage(image));
  if (info === undefined) {
    throw new KilnError({
      action: `read builder ${image}`,
      cause: 'the image does not exist in the Docker daemon',
      hint: 'create it with `kiln builder create`, or get it with `docker pull` or `docker load` (`kiln build` pulls a missing builder under --pull-policy)',
      exitCode: ExitCode.missingImage,
    });
  }
  const user = cnbUserOf(image, info.config.env);
  let files = await loadBuilderFiles(info.id);
  const fresh = files === undefined;
  if (files === undefined) files = await fetchBuilderFiles(ctx, info, user);
  const builder = parseBuilderFiles(image, info, user, files);
  // Only files that parsed are kept: a broken builder is read (and reported) again next time.
  if (fresh) await saveBuilderFiles(info.id, files);
  return builder;
}

function parseBuilderFiles(image: string, info: ImageInfo, user: CnbUser, files: BuilderFiles): BuilderInfo {
  const orderText = fileText(files.order, 'order.toml');
  if (orderText === undefined) {
    throw new KilnError({ action: `read builder ${image}`, cause: `${ORDER_TOML} is missing`, exitCode: ExitCode.config });
  }
  const order = throwOnErrors(parseOrderFile(orderText, `${image}:${ORDER_TOML}`), `read builder ${image}`);
  let runImages: RunImageRef[] = [];
  const runText = fileText(files.run, 'run.toml');
  if (runText !== undefined) {
    runImages = throwOnErrors(parseRunFile(runText, `${image}:${RUN_TOML}`), `read builder ${image}`).images;
  } else {
    const stackText = fileText(files.stack, 'stack.toml');
    const stack = stackText !== undefined ? throwOnErrors(parseStackFile(stackText, `${image}:${STACK_TOML}`), `read builder ${image}`) : undefined;
    if (stack?.runImage !== undefined) runImages = [stack.runImage];
  }
  const buildpacks = new Map<string, BuilderBuildpack>();
  for (const [dir, entries] of groupModules(files.buildpacks ?? [])) {
    const text = fileText(entries, 'buildpack.toml');
    if (text === undefined) continue;
    const file = `${image}:${CNB_DIR}/${dir}/buildpack.toml`;
    const descriptor = throwOnErrors(parseBuildpackDescriptor(text, file, { hasExecutables: isExecutableEntry(entries, 'bin/build') }), `read builder ${image}`);
    buildpacks.set(moduleKey(descriptor.id, descriptor.version), {
      kind: 'buildpack',
      descriptor,
      dir: `${CNB_DIR}/${dir}`,
      files: filesOf(entries),
      hasDetect: isExecutableEntry(entries, 'bin/detect'),
      hasBuild: isExecutableEntry(entries, 'bin/build'),
    });
  }
  const extensions = new Map<string, BuilderExtension>();
  for (const [dir, entries] of groupModules(files.extensions ?? [])) {
    const text = fileText(entries, 'extension.toml');
    if (text === undefined) continue;
    const file = `${image}:${CNB_DIR}/${dir}/extension.toml`;
    const descriptor = throwOnErrors(parseExtensionDescriptor(text, file, { hasExecutables: isExecutableEntry(entries, 'bin/detect') || isExecutableEntry(entries, 'bin/generate') }), `read builder ${image}`);
    extensions.set(moduleKey(descriptor.id, descriptor.version), {
      kind: 'extension',
      descriptor,
      dir: `${CNB_DIR}/${dir}`,
      files: filesOf(entries),
      hasDetect: isExecutableEntry(entries, 'bin/detect'),
      hasGenerate: isExecutableEntry(entries, 'bin/generate'),
    });
  }
  const buildConfigEnv: EnvFile[] = (files.buildConfigEnv ?? [])
    .filter((e) => e.type === 'file' && e.path.split('/').length === 2)
    .map((e) => ({ name: e.path.split('/')[1] ?? '', content: e.content.toString('utf8') }));
  return { image, info, user, env: info.config.env, order, runImages, buildpacks, extensions, buildConfigEnv };
}
