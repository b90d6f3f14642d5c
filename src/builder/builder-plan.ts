/**
 * builder.toml + the modules read from disk -> a BuilderPlan (pure). Validation follows platform.md, "Build Image"
 * and 3.1/3.2: every module's descriptor must parse (supported API included), ids/versions must agree
 * with builder.toml, one id@version may only be given once with one content, buildpacks need
 * bin/detect and bin/build (composites only an order), extensions need bin/generate or generate/,
 * and [[order]] / [[order-extensions]] / composite orders may only name modules the builder provides.
 */
import { indexKeyLines } from '../cnb/decode.js';
import { parseBuildpackDescriptor } from '../cnb/buildpack-descriptor.js';
import { parseExtensionDescriptor } from '../cnb/extension-descriptor.js';
import type {
  BuilderConfig,
  BuildpackDescriptor,
  ExtensionDescriptor,
  ModuleDescriptor,
  ModuleKind,
  ModuleRef,
  OrderGroup,
  RunImageRef,
  SpecIssue,
} from '../cnb/models.js';
import { stringifyOrderFile } from '../cnb/order.js';
import { stringifyRunFile, stringifyStackFile } from '../cnb/run-file.js';
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
}

/** A file of /cnb/build-config/env (operator env, platform.md, "Build Image"; buildpack.md, "Environment Variable Modification Rules"), from [[build.env]]. */
export interface EnvFileSpec {
  /** File name: NAME, NAME.default, NAME.override, NAME.append, NAME.prepend, NAME.delim. */
  name: string;
  content: string;
}

export interface BuilderPlan {
  description: string;
  buildImage: string;
  /** Component and composite buildpacks, sorted by id then version (one layer each). */
  buildpacks: PlannedModule[];
  extensions: PlannedModule[];
  /** [[order]] with every version filled in. */
  order: OrderGroup[];
  orderExtensions: OrderGroup[];
  runImages: RunImageRef[];
  orderToml: string;
  runToml: string;
  /** Legacy /cnb/stack.toml (Platform < 0.12 readers): the first run image. */
  stackToml: string;
  buildConfigEnv: EnvFileSpec[];
}

export interface PlanInput {
  config: BuilderConfig;
  /** builder.toml as named in errors, and its text (for line numbers). */
  configFile: string;
  configText: string;
  sources: ModuleSource[];
}

export interface PlanResult {
  plan?: BuilderPlan;
  issues: SpecIssue[];
}

const key = (id: string, version: string): string => `${id}@${version}`;

function compareModules(a: PlannedModule, b: PlannedModule): number {
  const ai = a.descriptor.id;
  const bi = b.descriptor.id;
  if (ai !== bi) return ai < bi ? -1 : 1;
  const av = a.descriptor.version;
  const bv = b.descriptor.version;
  return av < bv ? -1 : av > bv ? 1 : 0;
}

export function planBuilder(input: PlanInput): PlanResult {
  const { config, configFile } = input;
  const lines = indexKeyLines(input.configText);
  const issues: SpecIssue[] = [];
  const configIssue = (keyPath: string, message: string, code?: SpecIssue['code']): void => {
    const line = lines.get(keyPath) ?? lines.get(keyPath.replace(/\.[^.[]+$/, ''));
    issues.push({ severity: 'error', file: configFile, keyPath, ...(line !== undefined ? { line } : {}), message, ...(code ? { code } : {}) });
  };

  const modules = new Map<string, PlannedModule>();
  for (const src of input.sources) {
    const entryPath = `${src.kind === 'buildpack' ? 'buildpacks' : 'extensions'}[${src.index}]`;
    const planned = planModuleSource(src, entryPath, issues, configIssue);
    if (planned === undefined) continue;
    const { descriptor } = planned;
    const k = `${src.kind}:${key(descriptor.id, descriptor.version)}`;
    const existing = modules.get(k);
    if (existing === undefined) modules.set(k, planned);
    else if (existing.contentDigest !== planned.contentDigest) {
      configIssue(`${entryPath}.uri`, `${key(descriptor.id, descriptor.version)} is given twice with different content (${existing.hostDir} and ${src.dir})`);
    }
  }
  // Order checks against a module set with holes would only repeat the errors above.
  if (issues.some((i) => i.severity === 'error')) return { issues };
  const buildpacks = [...modules.values()].filter((m) => m.kind === 'buildpack').sort(compareModules);
  const extensions = [...modules.values()].filter((m) => m.kind === 'extension').sort(compareModules);

  const resolveRef = (ref: ModuleRef, keyPath: string, kind: ModuleKind): ModuleRef => {
    const pool = kind === 'buildpack' ? buildpacks : extensions;
    const other = kind === 'buildpack' ? extensions : buildpacks;
    const matches = pool.filter((m) => m.descriptor.id === ref.id && (ref.version === '' || m.descriptor.version === ref.version));
    if (matches.length === 1 && matches[0]) return { id: ref.id, version: matches[0].descriptor.version, optional: ref.optional };
    const want = ref.version === '' ? ref.id : key(ref.id, ref.version);
    if (matches.length > 1) {
      configIssue(`${keyPath}.version`, `${ref.id} is provided in several versions (${matches.map((m) => m.descriptor.version).join(', ')}); name one`);
    } else if (other.some((m) => m.descriptor.id === ref.id)) {
      configIssue(`${keyPath}.id`, `${want} is ${kind === 'buildpack' ? 'an extension; extensions belong in [[order-extensions]]' : 'a buildpack; [[order-extensions]] takes extensions only'}`);
    } else {
      configIssue(`${keyPath}.id`, `${want} is not provided by any [[${kind === 'buildpack' ? 'buildpacks' : 'extensions'}]] entry`);
    }
    return ref;
  };
  const resolveOrder = (groups: OrderGroup[], section: string, kind: ModuleKind): OrderGroup[] =>
    groups.map((g, gi) => ({ group: g.group.map((ref, ri) => resolveRef(ref, `${section}[${gi}].group[${ri}]`, kind)) }));

  const order = resolveOrder(config.order, 'order', 'buildpack');
  const orderExtensions = resolveOrder(config.orderExtensions, 'order-extensions', 'extension');
  if (order.length === 0 && buildpacks.length > 0) configIssue('order', 'is empty: name at least one group of buildpacks');
  // Composite buildpacks: every member of their order must be in the builder too (distribution.md, "Buildpackage").
  for (const bp of buildpacks) {
    const d = bp.descriptor as BuildpackDescriptor;
    d.order.forEach((g, gi) =>
      g.group.forEach((ref, ri) => {
        if (!buildpacks.some((m) => m.descriptor.id === ref.id && m.descriptor.version === ref.version)) {
          issues.push({
            severity: 'error',
            file: bp.hostDir + '/buildpack.toml',
            keyPath: `order[${gi}].group[${ri}]`,
            message: `${key(ref.id, ref.version)} (in composite ${key(d.id, d.version)}) is not provided by any [[buildpacks]] entry of ${configFile}`,
          });
        }
      }),
    );
  }

  // A composite that contains itself (through any depth) would fail every build: refused here, once.
  const cycle = compositeCycle(buildpacks);
  if (cycle !== undefined) {
    issues.push({ severity: 'error', file: `${cycle.module.hostDir}/buildpack.toml`, keyPath: 'order', message: `composite buildpacks form a cycle (${cycle.path.join(' -> ')}); a composite may not contain itself` });
  }

  if (issues.some((i) => i.severity === 'error')) return { issues };
  const runImages = config.runImages;
  const first = runImages[0];
  return {
    issues,
    plan: {
      description: config.description,
      buildImage: config.buildImage,
      buildpacks,
      extensions,
      order,
      orderExtensions,
      runImages,
      orderToml: stringifyOrderFile({ order, orderExtensions }),
      runToml: stringifyRunFile({ images: runImages }),
      stackToml: first ? stringifyStackFile({ runImage: first }) : '',
      buildConfigEnv: buildEnvFiles(config.buildEnv),
    },
  };
}

/**
 * One module read from disk -> its planned layer, or undefined after recording why not: the descriptor
 * must parse, agree with the entry's id/version, and a buildpack needs bin/detect and bin/build (a
 * composite only an order). Also used for the modules `kiln build --buildpack` adds (app/ephemeral-builder.ts).
 */
export function planModuleSource(src: ModuleSource, entryPath: string, issues: SpecIssue[], configIssue: (keyPath: string, message: string) => void): PlannedModule | undefined {
  const section = src.kind === 'buildpack' ? 'buildpacks' : 'extensions';
  if (src.descriptorText === undefined) {
    configIssue(`${entryPath}.uri`, `${src.entry.uri} has no ${src.kind}.toml`);
    return undefined;
  }
  const descriptor = parseDescriptor(src, issues);
  if (!descriptor) return undefined;
  const where = `${src.kind} ${descriptor.id}@${descriptor.version} (${src.descriptorFile})`;
  if (src.entry.id !== '' && src.entry.id !== descriptor.id) {
    configIssue(`${entryPath}.id`, `"${src.entry.id}" does not match the id "${descriptor.id}" in ${src.descriptorFile}`);
    return undefined;
  }
  if (src.entry.version !== '' && src.entry.version !== descriptor.version) {
    configIssue(`${entryPath}.version`, `"${src.entry.version}" does not match the version "${descriptor.version}" in ${src.descriptorFile}`);
    return undefined;
  }
  // An extension needs no files besides extension.toml: without bin/detect it passes detect, without
  // bin/generate and generate/ its output is empty (image_extension.md "bin/detect", "bin/generate").
  if (descriptor.kind === 'buildpack') checkBuildpackFiles(descriptor, src, where, entryPath, configIssue);
  return {
    kind: src.kind,
    descriptor,
    hostDir: src.dir,
    imageDir: `cnb/${section}/${escapeId(descriptor.id)}/${descriptor.version}`,
    contentDigest: src.contentDigest,
  };
}

/** The first cycle through composite buildpacks' [[order]]s (depth first), with the module it starts at. */
function compositeCycle(buildpacks: PlannedModule[]): { module: PlannedModule; path: string[] } | undefined {
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
  entryPath: string,
  configIssue: (keyPath: string, message: string) => void,
): void {
  if (d.order.length > 0) {
    // A composite is an order only (buildpack.md, "buildpack.toml (TOML)").
    if (src.hasDetect || src.hasBuild) configIssue(`${entryPath}.uri`, `${where} is composite ([[order]]) but also has bin/detect or bin/build`);
    return;
  }
  if (!src.hasDetect) configIssue(`${entryPath}.uri`, `${where} has no bin/detect`);
  if (!src.hasBuild) configIssue(`${entryPath}.uri`, `${where} has no bin/build`);
}

/**
 * [[build.env]] as operator env files (buildpack.md, "Environment Variable Modification Rules"): no suffix means the plain file (override for
 * the platform's env rules), a suffix becomes the file extension, delim goes into NAME.delim.
 */
export function buildEnvFiles(env: BuilderConfig['buildEnv']): EnvFileSpec[] {
  const files: EnvFileSpec[] = [];
  for (const e of env) {
    files.push({ name: e.suffix !== undefined && e.suffix !== '' ? `${e.name}.${e.suffix}` : e.name, content: e.value });
    if (e.delim !== undefined) files.push({ name: `${e.name}.delim`, content: e.delim });
  }
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
