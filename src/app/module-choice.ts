/**
 * Which modules a build adds to its builder, and the order that results (pure). pack's rules
 * (`pack build --buildpack/--extension/--pre-buildpack/--post-buildpack`) and extensions/project-descriptor.md
 * ("io.buildpacks.group", "io.buildpacks.pre.group", "io.buildpacks.post.group"):
 *   - `--buildpack` replaces project.toml's group; either replaces the builder's order with one group.
 *     `from=builder` among them stands for the builder's order: its groups with the others around them.
 *   - `--pre-buildpack` / `--post-buildpack` replace project.toml's pre/post groups; those buildpacks go
 *     at the start / end of every group of the order (the spec's words; pack applies them only when no
 *     group is given).
 *   - `--extension` replaces the builder's order-extensions with one group, each extension prepended
 *     (so the last one given runs first, as in pack).
 * A module is named by a directory or archive (relative to the working directory for flags, to
 * project.toml for its entries), `docker://<image>` or a package image, `<id>@<version>` or `<id>` of a
 * module the builder has, or an inline script (project.toml only).
 */
import { resolve } from 'node:path';
import type { ModuleKind, ModuleRef, OrderFile, OrderGroup, ProjectDescriptor } from '../cnb/models.js';
import { projectGroupKey } from '../cnb/project-descriptor.js';

/** `-b from=builder`: the builder's order at this place of the group (pack). */
export const FROM_BUILDER = 'from=builder';

export interface ModuleLocator {
  kind: ModuleKind;
  /** How the user named it, for errors: `--buildpack ./bp`, `project.toml io.buildpacks.group[1] (uri "./bp")`. */
  where: string;
  /** A directory, archive, docker:// or package image to read; relative paths against baseDir. */
  uri?: string;
  baseDir: string;
  /** A module by id (version '' = the only one the builder has); tried before uri when both are set. */
  ref?: { id: string; version: string };
  /** An inline buildpack (project.toml `script`). */
  inline?: ModuleRef;
  /** `from=builder`. */
  fromBuilder?: boolean;
}

export interface ModuleChoice {
  group: ModuleLocator[];
  pre: ModuleLocator[];
  post: ModuleLocator[];
  extensions: ModuleLocator[];
}

export interface ModuleFlags {
  buildpacks?: string[];
  extensions?: string[];
  preBuildpacks?: string[];
  postBuildpacks?: string[];
}

const ID_AT_VERSION = /^([^@\s]+)@([^@\s]+)$/;

/** One flag value: docker:// and existing paths are read; `id@version` and a bare word may be a module the builder has. */
export function flagLocator(text: string, flag: string, kind: ModuleKind, cwd: string, exists: (path: string) => boolean): ModuleLocator {
  const where = `${flag} ${text}`;
  if (kind === 'buildpack' && text === FROM_BUILDER) return { kind, where, baseDir: cwd, fromBuilder: true };
  if (/^docker:\/\//i.test(text) || exists(resolve(cwd, text))) return { kind, where, baseDir: cwd, uri: text };
  const m = ID_AT_VERSION.exec(text);
  if (m?.[1] !== undefined && m[2] !== undefined && !text.startsWith('.') && !text.startsWith('/')) return { kind, where, baseDir: cwd, ref: { id: m[1], version: m[2] } };
  // A bare word: a module id of the builder, else an image name (a path that does not exist is reported as such).
  if (!text.startsWith('.') && !text.startsWith('/')) return { kind, where, baseDir: cwd, ref: { id: text, version: '' }, uri: text };
  return { kind, where, baseDir: cwd, uri: text };
}

/** One project.toml group entry, named by its key path and what it says. */
export function projectLocator(project: ProjectDescriptor, file: string, which: 'group' | 'pre' | 'post', index: number, ref: ModuleRef): ModuleLocator {
  const key = projectGroupKey(project, which, index);
  const says = ref.script !== undefined ? `inline buildpack "${ref.id}"` : ref.uri !== undefined ? `uri "${ref.uri}"` : `id "${ref.id}"${ref.version !== '' ? ` version "${ref.version}"` : ''}`;
  const base = { kind: 'buildpack' as const, where: `${file} ${key} (${says})`, baseDir: resolve(file, '..') };
  if (ref.script !== undefined) return { ...base, inline: ref };
  if (ref.uri !== undefined) return { ...base, uri: ref.uri, ...(ref.id !== '' ? { ref: { id: ref.id, version: ref.version } } : {}) };
  return { ...base, ref: { id: ref.id, version: ref.version } };
}

/** The modules of a build: flags first, project.toml where the matching flag is not given (pack's precedence). */
export function chooseModules(flags: ModuleFlags, project: ProjectDescriptor | undefined, projectFile: string, cwd: string, exists: (path: string) => boolean): ModuleChoice {
  const fromFlags = (values: string[] | undefined, flag: string, kind: ModuleKind): ModuleLocator[] => (values ?? []).map((v) => flagLocator(v, flag, kind, cwd, exists));
  const fromProject = (refs: ModuleRef[] | undefined, which: 'group' | 'pre' | 'post'): ModuleLocator[] =>
    project === undefined ? [] : (refs ?? []).map((r, i) => projectLocator(project, projectFile, which, i, r));
  const pick = (a: ModuleLocator[], b: () => ModuleLocator[]): ModuleLocator[] => (a.length > 0 ? a : b());
  return {
    group: pick(fromFlags(flags.buildpacks, '--buildpack', 'buildpack'), () => fromProject(project?.group, 'group')),
    pre: pick(fromFlags(flags.preBuildpacks, '--pre-buildpack', 'buildpack'), () => fromProject(project?.preGroup, 'pre')),
    post: pick(fromFlags(flags.postBuildpacks, '--post-buildpack', 'buildpack'), () => fromProject(project?.postGroup, 'post')),
    extensions: fromFlags(flags.extensions, '--extension', 'extension'),
  };
}

export function choosesAnything(c: ModuleChoice): boolean {
  return c.group.length + c.pre.length + c.post.length + c.extensions.length > 0;
}

/** A group entry resolved to a module ref, or the builder's order (`from=builder`). */
export type GroupPart = ModuleRef | typeof FROM_BUILDER;

/** The order of the build from the builder's and the chosen modules (see the file comment). */
export function composeOrder(base: OrderFile, parts: { group: GroupPart[]; pre: ModuleRef[]; post: ModuleRef[]; extensions: ModuleRef[] }): OrderFile {
  const at = parts.group.indexOf(FROM_BUILDER);
  const refs = (xs: GroupPart[]): ModuleRef[] => xs.filter((x): x is ModuleRef => x !== FROM_BUILDER);
  let order: OrderGroup[];
  if (parts.group.length === 0) order = base.order;
  else if (at < 0) order = [{ group: refs(parts.group) }];
  else {
    const before = refs(parts.group.slice(0, at));
    const after = refs(parts.group.slice(at + 1));
    order = base.order.map((g) => ({ group: [...before, ...g.group, ...after] }));
  }
  if (parts.pre.length > 0 || parts.post.length > 0) order = order.map((g) => ({ group: [...parts.pre, ...g.group, ...parts.post] }));
  const orderExtensions = parts.extensions.length > 0 ? [{ group: [...parts.extensions].reverse() }] : base.orderExtensions;
  return { order, orderExtensions };
}
