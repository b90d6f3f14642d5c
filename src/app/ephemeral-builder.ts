/**
 * The builder of one build when it adds modules (`--buildpack`, `--extension`, `--pre-buildpack`,
 * `--post-buildpack`, project.toml groups by uri or inline) or changes the CNB user (`--uid`/`--gid`),
 * as pack makes an ephemeral builder: the builder image plus one layer per added module (builder/
 * builder-layers.ts, the same layers `kiln builder create` writes), a replaced /cnb/order.toml, the
 * order labels, and with a new user its CNB_USER_ID/CNB_GROUP_ID and /layers and /workspace owned by
 * that user (platform.md, "Build Image"). Modules are read by builder/module-source.ts, the one reader of
 * module uris (directory, archive, .cnb, docker://, package image).
 *
 * The image is reproducible and tagged `kiln.local/ephemeral-builder:<key>` with its content key in
 * EPHEMERAL_BUILDER_LABEL, so an unchanged second build finds it and makes no new image. Like extended
 * images (lifecycle/extend/cache.ts) it carries the caller's labels (KILN_LABELS) but not the session
 * label; `kiln prune` removes it. A build that only re-orders modules the builder has makes no image.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { planModuleSource, type PlannedModule } from '../builder/module-plan.js';
import { BUILDPACK_ORDER_LABEL, orderJson, ORDER_EXTENSIONS_LABEL } from '../builder/builder-labels.js';
import { dirsLayerFiles, moduleEntries } from '../builder/builder-layers.js';
import { readModuleSource } from '../builder/module-source.js';
import { reproducibleCreated } from '../builder/builder-image.js';
import { inlineBuildpackFiles } from '../cnb/inline-buildpack.js';
import type { ModuleRef, OrderFile, ProjectDescriptor, SpecIssue } from '../cnb/models.js';
import { stringifyOrderFile } from '../cnb/order.js';
import { formatIssue } from '../cnb/spec-error.js';
import { ExitCode, KilnError } from '../errors.js';
import { imageArchiveStream, type ArchiveLayer } from '../image/image-archive.js';
import { layerFromFiles, writeLayerTar, type LayerEntry } from '../image/layer-tar.js';
import { makeKilnTempDir } from '../kiln-temp-dir.js';
import type { Labels } from '../ports.js';
import type { PhaseContext } from '../lifecycle/phase-context.js';
import { readBuilder, type BuilderInfo } from '../lifecycle/read-builder.js';
import type { ImageFetcher } from './image-fetcher.js';
import { chooseModules, choosesAnything, composeOrder, FROM_BUILDER, type GroupPart, type ModuleFlags, type ModuleLocator } from './module-choice.js';

/** The content key of an ephemeral builder (see the file comment). */
export { EPHEMERAL_BUILDER_LABEL } from '../cnb/labels.js';
import { EPHEMERAL_BUILDER_LABEL } from '../cnb/labels.js';
const EPHEMERAL_REPO = 'kiln.local/ephemeral-builder';

export interface EphemeralInput {
  flags: ModuleFlags;
  /** --uid / --gid: the CNB user of the build instead of the builder's. */
  uid?: number;
  gid?: number;
  project: ProjectDescriptor | undefined;
  /** project.toml's path (its directory is the base of relative uris). */
  projectFile: string;
  cwd: string;
  /** The caller's labels (KILN_LABELS), not the session's. */
  labels: Labels;
  fetcher?: ImageFetcher;
}

function notProvided(loc: ModuleLocator, builder: BuilderInfo, also?: string): KilnError {
  const map = loc.kind === 'buildpack' ? builder.buildpacks : builder.extensions;
  const have = [...map.keys()].sort().join(', ') || 'none';
  const want = loc.ref !== undefined ? (loc.ref.version !== '' ? `${loc.ref.id}@${loc.ref.version}` : loc.ref.id) : (loc.uri ?? '');
  return new KilnError({
    action: `use ${loc.where}`,
    cause: `${want === '' ? 'the entry names no module' : `${loc.kind} ${want} is not on the builder ${builder.image}`} (it has: ${have})${also !== undefined ? `, ${also}` : ''}`,
    hint: `name a ${loc.kind} directory, a .tgz/.cnb file, docker://<image>, or <id>@<version> of a ${loc.kind} the builder has`,
    exitCode: ExitCode.config,
    subject: loc.where,
  });
}

/** A module by id among the builder's and the added ones (version '' = the only one with that id). */
function findRef(loc: ModuleLocator, builder: BuilderInfo, added: PlannedModule[]): ModuleRef | undefined {
  const ref = loc.ref;
  if (ref === undefined || ref.id === '') return undefined;
  const map = loc.kind === 'buildpack' ? builder.buildpacks : builder.extensions;
  const known = [...[...map.values()].map((m) => m.descriptor), ...added.filter((m) => m.kind === loc.kind).map((m) => m.descriptor)];
  const hits = known.filter((d) => d.id === ref.id && (ref.version === '' || d.version === ref.version));
  const versions = [...new Set(hits.map((d) => d.version))];
  if (versions.length !== 1) return undefined;
  return { id: ref.id, version: versions[0] ?? '', optional: false };
}

/** Reads one module named by uri or inline script and plans its layer; errors name the flag or entry. */
async function readAdded(loc: ModuleLocator, n: number, tmp: string, input: EphemeralInput, ctx: PhaseContext): Promise<PlannedModule> {
  let uri = loc.uri ?? '';
  let baseDir = loc.baseDir;
  if (loc.inline !== undefined) {
    const dir = join(tmp, `inline-${n}`);
    for (const f of inlineBuildpackFiles(loc.inline)) {
      await mkdir(dirname(join(dir, f.path)), { recursive: true });
      await writeFile(join(dir, f.path), f.content);
      await chmod(join(dir, f.path), f.mode);
    }
    uri = dir;
    baseDir = tmp;
  }
  const fetcher = input.fetcher;
  const entry = { id: loc.inline?.id ?? '', version: '', uri };
  const src = await readModuleSource(entry, loc.kind, n, {
    configDir: baseDir,
    configFile: loc.where,
    tmpRoot: tmp,
    engine: ctx.engine,
    ...(fetcher !== undefined ? { fetchImage: (ref: string) => fetcher.ensure(ref, loc.kind) } : {}),
  }).catch((e: unknown) => {
    // module-source.ts's hint speaks of builder.toml; here the module was named by a flag or project.toml.
    if (!(e instanceof KilnError)) throw e;
    const relative = loc.where.startsWith('--') ? 'the working directory' : 'project.toml';
    throw new KilnError({ action: `read ${loc.where}`, cause: e.causeText, hint: `name a ${loc.kind} directory or a .tgz/.tar/.cnb file (relative to ${relative}), docker://<image>, or <id>@<version> of a ${loc.kind} the builder has`, exitCode: e.exitCode, subject: loc.where, original: e });
  });
  const issues: SpecIssue[] = [];
  const planned = planModuleSource(src, loc.where, issues, (keyPath, message) => issues.push({ severity: 'error', file: loc.where, keyPath, message }));
  const errors = issues.filter((i) => i.severity === 'error');
  if (planned === undefined || errors.length > 0) {
    throw new KilnError({ action: `read ${loc.where}`, cause: errors.map(formatIssue).join('; ') || 'the module is unusable', hint: `fix the ${loc.kind} or name another one`, exitCode: ExitCode.config, subject: loc.where });
  }
  for (const w of issues) ctx.reporter.emit({ type: 'warning', message: formatIssue(w) });
  return planned;
}

/** sha256 over what decides the ephemeral image: the builder, the added modules' content, the order, the user. */
function contentKey(base: BuilderInfo, modules: PlannedModule[], orderToml: string, user: { uid: number; gid: number }): string {
  const h = createHash('sha256');
  h.update(`base ${base.info.id}\n`);
  for (const m of modules) h.update(`module ${m.kind} ${m.descriptor.id} ${m.descriptor.version} ${m.contentDigest}\n`);
  h.update(`user ${user.uid}:${user.gid}\norder ${orderToml}`);
  return h.digest('hex');
}

function userEnv(env: readonly string[], user: { uid: number; gid: number }): string[] {
  return [...env.filter((e) => !e.startsWith('CNB_USER_ID=') && !e.startsWith('CNB_GROUP_ID=')), `CNB_USER_ID=${user.uid}`, `CNB_GROUP_ID=${user.gid}`];
}

async function writeEphemeral(ctx: PhaseContext, base: BuilderInfo, o: { modules: PlannedModule[]; order: OrderFile; orderToml: string; user: { uid: number; gid: number }; userChanged: boolean; tag: string; key: string; labels: Labels; tmp: string }): Promise<void> {
  const specs: Array<{ name: string; entries: () => AsyncIterable<LayerEntry> | Iterable<LayerEntry> }> = [
    ...o.modules.map((m) => ({ name: m.imageDir, entries: () => moduleEntries(m) })),
    { name: 'order', entries: () => layerFromFiles([{ path: 'cnb', type: 'directory' }, { path: 'cnb/order.toml', content: o.orderToml }]) },
    ...(o.userChanged ? [{ name: 'dirs', entries: () => layerFromFiles(dirsLayerFiles(o.user)) }] : []),
  ];
  const layers: ArchiveLayer[] = [];
  for (const [i, spec] of specs.entries()) {
    const tarPath = join(o.tmp, `layer-${i}.tar`);
    const { diffId } = await writeLayerTar(spec.entries(), tarPath);
    layers.push({ diffId, tarPath, history: { created_by: `kiln ephemeral builder: ${spec.name}` } });
  }
  const info = base.info;
  const labels: Labels = {
    ...info.config.labels,
    [BUILDPACK_ORDER_LABEL]: JSON.stringify(orderJson(o.order.order)),
    ...(o.order.orderExtensions.length > 0 ? { [ORDER_EXTENSIONS_LABEL]: JSON.stringify(orderJson(o.order.orderExtensions)) } : {}),
    ...o.labels,
    [EPHEMERAL_BUILDER_LABEL]: o.key,
  };
  const { stream } = await imageArchiveStream({
    base: { layers: info.layers, os: info.os, architecture: info.architecture, ...(info.variant !== undefined ? { variant: info.variant } : {}) },
    layers,
    config: { ...info.config, env: o.userChanged ? userEnv(info.config.env, o.user) : info.config.env, labels },
    created: reproducibleCreated(),
    tags: [o.tag],
  });
  try {
    await ctx.engine.loadImage(stream);
  } catch (e) {
    throw new KilnError({ action: `load the ephemeral builder ${o.tag}`, cause: e instanceof Error ? e.message : String(e), hint: 'the daemon refused the image archive', exitCode: ExitCode.generic, original: e });
  }
}

/**
 * The builder this build runs with: `base` itself when nothing is added and the user is unchanged, `base`
 * with another order when only modules it has are re-ordered, else the ephemeral builder image (read
 * like any builder).
 */
export async function ephemeralBuilder(ctx: PhaseContext, base: BuilderInfo, input: EphemeralInput): Promise<BuilderInfo> {
  const choice = chooseModules(input.flags, input.project, input.projectFile, input.cwd, existsSync);
  const userChanged = (input.uid !== undefined && input.uid !== base.user.uid) || (input.gid !== undefined && input.gid !== base.user.gid);
  if (!choosesAnything(choice) && !userChanged) return base;
  if (choice.group.filter((l) => l.fromBuilder === true).length > 1) {
    throw new KilnError({ action: 'read --buildpack', cause: `${FROM_BUILDER} is given more than once`, hint: `name ${FROM_BUILDER} once: it stands for the builder's whole order`, exitCode: ExitCode.usage });
  }
  const tmp = await makeKilnTempDir('ephemeral-builder');
  try {
    const added: PlannedModule[] = [];
    const all = [...choice.group, ...choice.pre, ...choice.post, ...choice.extensions];
    // Modules by uri or inline first, so an id can also name a module added by another flag or entry.
    const readOf = new Map<ModuleLocator, PlannedModule>();
    for (const [n, loc] of all.entries()) {
      if (loc.fromBuilder === true || (loc.inline === undefined && loc.uri === undefined)) continue;
      // A bare word or id@version the builder has is that module, not an image name.
      if (loc.ref !== undefined && findRef(loc, base, []) !== undefined) continue;
      const planned = await readAdded(loc, n, tmp, input, ctx).catch((e: unknown) => {
        // A bare word is first a module id of the builder, then an image name: when it is neither, say both.
        if (loc.ref !== undefined && e instanceof KilnError) throw notProvided(loc, base, `nor an image kiln can read (${e.causeText})`);
        throw e;
      });
      readOf.set(loc, planned);
      if (!added.some((m) => m.kind === planned.kind && m.imageDir === planned.imageDir && m.contentDigest === planned.contentDigest)) added.push(planned);
    }
    const refOf = (loc: ModuleLocator): ModuleRef => {
      const read = readOf.get(loc);
      if (read !== undefined) return { id: read.descriptor.id, version: read.descriptor.version, optional: false };
      const found = findRef(loc, base, added);
      if (found === undefined) throw notProvided(loc, base);
      return found;
    };
    const order = composeOrder(base.order, {
      group: choice.group.map((l): GroupPart => (l.fromBuilder === true ? FROM_BUILDER : refOf(l))),
      pre: choice.pre.map(refOf),
      post: choice.post.map(refOf),
      extensions: choice.extensions.map(refOf),
    });
    if (added.length === 0 && !userChanged) return { ...base, order };
    const user = { uid: input.uid ?? base.user.uid, gid: input.gid ?? base.user.gid };
    const orderToml = stringifyOrderFile(order);
    const key = contentKey(base, added, orderToml, user);
    const tag = `${EPHEMERAL_REPO}:${key.slice(0, 32)}`;
    const existing = await ctx.engine.inspectImage(tag);
    if (existing?.config.labels[EPHEMERAL_BUILDER_LABEL] !== key) {
      ctx.reporter.emit({ type: 'info', message: `adding ${added.length} module(s) to builder ${base.image} (ephemeral builder ${tag})` });
      await writeEphemeral(ctx, base, { modules: added, order, orderToml, user, userChanged, tag, key, labels: input.labels, tmp });
    }
    return { ...(await readBuilder(ctx, tag)), image: base.image };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
