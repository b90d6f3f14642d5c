/**
 * The modules read from uris -> validated PlannedModules (pure), shared by builder.toml (builder-plan.ts)
 * and package.toml (package-plan.ts): every descriptor must parse (supported API included), ids and
 * versions must agree with the entry, one id@version may only be given once with one content,
 * buildpacks need bin/detect and bin/build (composites only an order), and a composite's members must
 * be provided too, without cycles (buildpack.md, "buildpack.toml (TOML)"; distribution.md, "Buildpackage").
 */
import { parseBuildpackDescriptor } from '../cnb/buildpack-descriptor.js';
import { parseExtensionDescriptor } from '../cnb/extension-descriptor.js';
import type { BuildpackDescriptor, ExtensionDescriptor, ModuleDescriptor, ModuleKind, SpecIssue } from '../cnb/models.js';
import type { ModuleSource } from './module-source.js';
import { escapeId } from '../cnb/paths.js';


export interface PlannedModule {
  kind: ModuleKind;
  descriptor: ModuleDescriptor;
  /** Host directory whose contents become the module layer. */
  hostDir: string;
  /** In-image directory without the leading slash: cnb/buildpacks/<escaped-id>/<version>. */
  imageDir: string;
  contentDigest: string;
  /** The descriptor as named in errors (a path the user knows, never a temp dir). */
  descriptorFile?: string;
}

/** Reports an issue about the entry at a key path of the config file. */
export type EntryIssue = (keyPath: string, message: string) => void;

const key = (id: string, version: string): string => `${id}@${version}`;

/** The entry's key path: the source's own, else `<kind>s[<index>]` (builder.toml's arrays). */
export function entryPathOf(src: ModuleSource): string {
  return src.keyPath ?? `${src.kind === 'buildpack' ? 'buildpacks' : 'extensions'}[${src.index}]`;
}

/** The key path of the entry's uri: `<entry>.uri`, or the flag itself (`--path`, `--buildpack`). */
export function uriKeyOf(src: ModuleSource): string {
  const p = entryPathOf(src);
  return p.startsWith('-') ? p : `${p}.uri`;
}

/** Validated modules by `<kind>:<id>@<version>`; problems go to `configIssue` (the entry) and `issues` (descriptors). */
export function planModules(sources: readonly ModuleSource[], configIssue: EntryIssue, issues: SpecIssue[]): Map<string, PlannedModule> {
  const modules = new Map<string, PlannedModule>();
  for (const src of sources) {
    const section = src.kind === 'buildpack' ? 'buildpacks' : 'extensions';
    const entryPath = entryPathOf(src);
    if (src.descriptorText === undefined) {
      configIssue(uriKeyOf(src), `${src.entry.uri} has no ${src.kind}.toml`);
      continue;
    }
    const descriptor = parseDescriptor(src, issues);
    if (!descriptor) continue;
    const where = `${src.kind} ${descriptor.id}@${descriptor.version} (${src.descriptorFile})`;
    if (src.entry.id !== '' && src.entry.id !== descriptor.id) {
      configIssue(`${entryPath}.id`, `"${src.entry.id}" does not match the id "${descriptor.id}" in ${src.descriptorFile}`);
      continue;
    }
    if (src.entry.version !== '' && src.entry.version !== descriptor.version) {
      configIssue(`${entryPath}.version`, `"${src.entry.version}" does not match the version "${descriptor.version}" in ${src.descriptorFile}`);
      continue;
    }
    // An extension needs no files besides extension.toml: without bin/detect it passes detect, without
    // bin/generate and generate/ its output is empty (image_extension.md "bin/detect", "bin/generate").
    if (descriptor.kind === 'buildpack') checkBuildpackFiles(descriptor, src, where, uriKeyOf(src), configIssue);
    const k = `${src.kind}:${key(descriptor.id, descriptor.version)}`;
    const planned: PlannedModule = {
      kind: src.kind,
      descriptor,
      hostDir: src.dir,
      imageDir: `cnb/${section}/${escapeId(descriptor.id)}/${descriptor.version}`,
      contentDigest: src.contentDigest,
      descriptorFile: src.descriptorFile,
    };
    const existing = modules.get(k);
    if (existing === undefined) modules.set(k, planned);
    else if (existing.contentDigest !== planned.contentDigest) {
      configIssue(uriKeyOf(src), `${key(descriptor.id, descriptor.version)} is given twice with different content (${existing.descriptorFile ?? existing.hostDir} and ${src.descriptorFile})`);
    }
  }
  return modules;
}

const descriptorOf = (m: PlannedModule): string => m.descriptorFile ?? `${m.hostDir}/buildpack.toml`;

/** Composite buildpacks: every member of their order must be in `buildpacks` too, and no composite may contain itself. */
export function checkComposites(buildpacks: readonly PlannedModule[], issues: SpecIssue[], providers: string): void {
  for (const bp of buildpacks) {
    const d = bp.descriptor as BuildpackDescriptor;
    d.order.forEach((g, gi) =>
      g.group.forEach((ref, ri) => {
        if (!buildpacks.some((m) => m.descriptor.id === ref.id && m.descriptor.version === ref.version)) {
          issues.push({
            severity: 'error',
            file: descriptorOf(bp),
            keyPath: `order[${gi}].group[${ri}]`,
            message: `${key(ref.id, ref.version)} (in composite ${key(d.id, d.version)}) is not provided by ${providers}`,
          });
        }
      }),
    );
  }
  // A composite that contains itself (through any depth) would fail every build: refused here, once.
  const cycle = compositeCycle(buildpacks);
  if (cycle !== undefined) {
    issues.push({ severity: 'error', file: descriptorOf(cycle.module), keyPath: 'order', message: `composite buildpacks form a cycle (${cycle.path.join(' -> ')}); a composite may not contain itself` });
  }
}

/** The first cycle through composite buildpacks' [[order]]s (depth first), with the module it starts at. */
function compositeCycle(buildpacks: readonly PlannedModule[]): { module: PlannedModule; path: string[] } | undefined {
  const byKey = new Map(buildpacks.map((m) => [key(m.descriptor.id, m.descriptor.version), m]));
  const done = new Set<string>();
  const visit = (k: string, stack: string[]): string[] | undefined => {
    if (stack.includes(k)) return [...stack.slice(stack.indexOf(k)), k];
    if (done.has(k)) return undefined;
    const d = byKey.get(k)?.descriptor as BuildpackDescriptor | undefined;
    for (const g of d?.order ?? []) {
      for (const ref of g.group) {
        const found = visit(key(ref.id, ref.version), [...stack, k]);
        if (found !== undefined) return found;
      }
    }
    done.add(k);
    return undefined;
  };
  for (const [k, m] of byKey) {
    const path = visit(k, []);
    const start = path !== undefined ? byKey.get(path[0] ?? '') : undefined;
    if (path !== undefined) return { module: start ?? m, path };
  }
  return undefined;
}

function parseDescriptor(src: ModuleSource, issues: SpecIssue[]): ModuleDescriptor | undefined {
  const text = src.descriptorText ?? '';
  const result =
    src.kind === 'buildpack'
      ? parseBuildpackDescriptor(text, src.descriptorFile, { hasExecutables: src.hasBuild })
      : parseExtensionDescriptor(text, src.descriptorFile, { hasExecutables: src.hasDetect || src.hasGenerate });
  issues.push(...result.issues);
  if (result.issues.some((i) => i.severity === 'error')) return undefined;
  return result.value as BuildpackDescriptor | ExtensionDescriptor | undefined;
}

function checkBuildpackFiles(
  d: BuildpackDescriptor,
  src: ModuleSource,
  where: string,
  uriKey: string,
  configIssue: (keyPath: string, message: string) => void,
): void {
  if (d.order.length > 0) {
    // A composite is an order only (buildpack.md, "buildpack.toml (TOML)").
    if (src.hasDetect || src.hasBuild) configIssue(uriKey, `${where} is composite ([[order]]) but also has bin/detect or bin/build`);
    return;
  }
  if (!src.hasDetect) configIssue(uriKey, `${where} has no bin/detect`);
  if (!src.hasBuild) configIssue(uriKey, `${where} has no bin/build`);
}

/**
 * One module read from disk -> its planned layer, or undefined after recording why not (the checks of
 * planModules for a single entry). Used for the modules `kiln build --buildpack` / project.toml add
 * (app/ephemeral-builder.ts), named in errors by `entryPath` (a flag or a project.toml key path).
 */
export function planModuleSource(src: ModuleSource, entryPath: string, issues: SpecIssue[], configIssue: EntryIssue): PlannedModule | undefined {
  return [...planModules([{ ...src, keyPath: entryPath }], configIssue, issues).values()][0];
}
