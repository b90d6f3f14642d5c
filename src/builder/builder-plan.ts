/**
 * builder.toml + the modules read from disk -> a BuilderPlan (pure). Validation follows platform.md, "Build Image"
 * and 3.1/3.2: the modules are checked by module-plan.ts (descriptors, ids/versions against builder.toml,
 * one content per id@version, executables, composites), and [[order]] / [[order-extensions]] / composite orders may only name modules the builder provides.
 */
import { indexKeyLines } from '../cnb/decode.js';
import type {
  BuilderConfig,
  ModuleKind,
  ModuleRef,
  OrderGroup,
  RunImageRef,
  SpecIssue,
} from '../cnb/models.js';
import { stringifyOrderFile } from '../cnb/order.js';
import { stringifyRunFile, stringifyStackFile } from '../cnb/run-file.js';
import type { ModuleSource } from './module-source.js';
import { checkComposites, planModules, type PlannedModule } from './module-plan.js';

export { planModuleSource, type PlannedModule } from './module-plan.js';

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

  const modules = planModules(input.sources, configIssue, issues);
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
  checkComposites(buildpacks, issues, `any [[buildpacks]] entry of ${configFile}`);

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
