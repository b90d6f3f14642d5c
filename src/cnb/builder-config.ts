/**
 * builder.toml in pack's format (platform.md, "Build Image"): modules, orders, build image, run images, build env and
 * lifecycle, including the older [stack] table.
 */
import { decodeToml, type DecodeContext, type TableReader } from './decode.js';
import type { BuilderConfig, BuilderModuleEntry, ParseResult, RunImageRef } from './models.js';
import { checkModuleId, decodeTargets } from './module-common.js';
import { checkImageAndMirrors, checkImageKey } from './image-key.js';
import { decodeOrder } from './order.js';

/** Suffixes pack accepts on [[build.env]] (they map to env file suffixes, buildpack.md, "Environment Variable Modification Rules"). */
const ENV_SUFFIXES = ['default', 'override', 'append', 'prepend'];

export function parseBuilderConfig(text: string, file: string): ParseResult<BuilderConfig> {
  return decodeToml(text, file, (root, ctx) => {
    const description = root.string('description');
    const buildpacks = root.tableArray('buildpacks', (e) => decodeModuleEntry(e));
    const extensions = root.tableArray('extensions', (e) => decodeModuleEntry(e));
    const order = decodeOrder(root, 'order', { requireVersion: false });
    const orderExtensions = decodeOrder(root, 'order-extensions', { requireVersion: false, extensions: true });

    const build = root.optTable('build');
    const buildImageNew = build?.optString('image', { nonEmpty: true });
    const buildEnv = build ? decodeBuildEnv(build) : [];
    build?.finish();

    const run = root.optTable('run');
    const runImagesNew = run ? run.tableArray('images', decodeRunImage) : [];
    run?.finish();

    const stack = root.optTable('stack');
    const stackId = stack?.optString('id', { nonEmpty: true });
    const stackBuild = stack?.optString('build-image', { nonEmpty: true });
    const stackRun = stack?.optString('run-image', { nonEmpty: true });
    const stackMirrors = stack?.stringArray('run-image-mirrors') ?? [];
    checkImageKey(ctx, 'build.image', buildImageNew);
    checkImageKey(ctx, 'stack.build-image', stackBuild);
    checkImageKey(ctx, 'stack.run-image', stackRun);
    stackMirrors.forEach((m, i) => checkImageKey(ctx, `stack.run-image-mirrors[${i}]`, m));
    stack?.finish();

    const lifecycle = decodeLifecycle(root);
    const targets = decodeTargets(root);
    root.ignore('system'); // pack's system buildpacks: read by builder/ if ever needed (platform.md, "Build Image")

    const buildImage = pickBuildImage(ctx, buildImageNew, stackBuild);
    const runImages = pickRunImages(ctx, runImagesNew, stackRun, stackMirrors);

    const value: BuilderConfig = {
      description,
      buildpacks,
      extensions,
      order,
      orderExtensions,
      buildImage,
      runImages,
      buildEnv,
      ...(stackId !== undefined ? { stackId } : {}),
      ...(lifecycle !== undefined ? { lifecycle } : {}),
      ...(targets.length > 0 ? { targets } : {}),
    };
    return value;
  });
}

function decodeModuleEntry(e: TableReader): BuilderModuleEntry {
  const id = e.string('id');
  if (id !== '') checkModuleId(e.ctx, e.keyPath('id'), id);
  const version = e.string('version');
  let uri = e.string('uri');
  // Old pack configs used `image = "..."` for image buildpacks; accept it as the uri.
  const image = e.optString('image');
  if (image !== undefined) {
    e.ctx.warn(e.keyPath('image'), 'is deprecated; use uri (treated as the uri)');
    if (uri === '') uri = image;
  }
  if (uri === '' && id === '') e.ctx.error(e.path, 'needs a uri (or at least an id)');
  return { id, version, uri };
}

function decodeRunImage(r: TableReader): RunImageRef {
  const ref = { image: r.reqString('image', { nonEmpty: true }), mirrors: r.stringArray('mirrors') };
  checkImageAndMirrors(r.ctx, (k) => r.keyPath(k), ref.image, ref.mirrors);
  return ref;
}

function decodeBuildEnv(build: TableReader): BuilderConfig['buildEnv'] {
  return build.tableArray('env', (e) => {
    const name = e.reqString('name', { nonEmpty: true });
    if (name.includes('=') || name.includes('/')) e.ctx.error(e.keyPath('name'), `"${name}" is not a valid variable name`);
    const value = e.reqString('value');
    const suffix = e.optString('suffix');
    if (suffix !== undefined && suffix !== '' && !ENV_SUFFIXES.includes(suffix)) {
      e.ctx.error(e.keyPath('suffix'), `must be one of ${ENV_SUFFIXES.join(', ')}`);
    }
    const delim = e.optString('delim');
    return { name, value, ...(suffix ? { suffix } : {}), ...(delim !== undefined ? { delim } : {}) };
  });
}

function decodeLifecycle(root: TableReader): BuilderConfig['lifecycle'] {
  const l = root.optTable('lifecycle');
  if (!l) return undefined;
  const version = l.optString('version');
  const uri = l.optString('uri');
  if (version !== undefined && uri !== undefined) l.ctx.error(l.path, 'give either version or uri, not both');
  l.finish();
  return { ...(version !== undefined ? { version } : {}), ...(uri !== undefined ? { uri } : {}) };
}

function pickBuildImage(ctx: DecodeContext, fromBuild: string | undefined, fromStack: string | undefined): string {
  if (fromBuild !== undefined && fromStack !== undefined && fromBuild !== fromStack) {
    ctx.warn('stack.build-image', `differs from build.image "${fromBuild}"; using build.image`);
  }
  const image = fromBuild ?? fromStack;
  if (image === undefined) {
    ctx.error('build.image', 'is required (the build image; the older [stack] build-image is also accepted)');
    return '';
  }
  return image;
}

function pickRunImages(ctx: DecodeContext, fromRun: RunImageRef[], stackRun: string | undefined, stackMirrors: string[]): RunImageRef[] {
  if (fromRun.length > 0) {
    if (stackRun !== undefined && fromRun[0]?.image !== stackRun) {
      ctx.warn('stack.run-image', `differs from run.images[0].image "${fromRun[0]?.image ?? ''}"; using [[run.images]]`);
    }
    return fromRun;
  }
  if (stackRun !== undefined) return [{ image: stackRun, mirrors: stackMirrors }];
  ctx.error('run.images', 'is required (at least one [[run.images]] image; the older [stack] run-image is also accepted)');
  return [];
}
