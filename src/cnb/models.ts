/**
 * The validated, normalised models that spec/ parsers produce and everything else consumes.
 * Nothing here is `unknown`: decoding happens in the parsers (one per file kind).
 * Shared contract between spec/, lifecycle/, builder/ and app/: extend with care, do not rename.
 */

/** One issue found while parsing a file: errors make the value unusable, warnings do not. */
export interface SpecIssue {
  severity: 'error' | 'warning';
  /** The file as the user would name it (path or label). */
  file: string;
  /** Dotted key path, e.g. "buildpack.id" or "order[1].group[0].version"; "" for the whole file. */
  keyPath: string;
  /** 1-based line, when the TOML parser gives one. */
  line?: number;
  message: string;
  /**
   * Machine-readable kind for issues callers treat specially; 'unsupported-buildpack-api' makes
   * throwOnErrors use the lifecycle's exit code 12 (platform.md, "Platform API Version").
   */
  code?: 'unsupported-buildpack-api';
}

/** value is present when there are no error issues. */
export interface ParseResult<T> {
  value?: T;
  issues: SpecIssue[];
}

export type ModuleKind = 'buildpack' | 'extension';

/** An element of an order group (order.toml, builder.toml, buildpack.toml composite order). */
export interface ModuleRef {
  id: string;
  version: string;
  optional: boolean;
  /** project.toml [[io.buildpacks.group]] entries only: where to get the buildpack (pack's `uri`). */
  uri?: string;
  /** project.toml entries only: an inline buildpack ([io.buildpacks.group.script], extensions/project-descriptor.md). */
  script?: InlineScript;
}

/** `[io.buildpacks.group.script]`: the build script of an inline buildpack, its Buildpack API and shell. */
export interface InlineScript {
  api: string;
  inline: string;
  /** Default /bin/sh. */
  shell: string;
}

export interface OrderGroup {
  group: ModuleRef[];
}

export interface TargetDistro {
  name: string;
  version: string;
}

export interface Target {
  os: string;
  arch: string;
  /** Read from `variant` (preferred) or `arch-variant` (buildpack.md, "buildpack.toml (TOML)"; the lifecycle reads `arch-variant`). */
  variant: string;
  distros: TargetDistro[];
}

export interface License {
  type: string;
  uri: string;
}

interface ModuleDescriptorBase {
  /** Buildpack API the module implements, normalised "<major>.<minor>". */
  api: string;
  id: string;
  version: string;
  name: string;
  homepage: string;
  description: string;
  keywords: string[];
  licenses: License[];
  targets: Target[];
  /** Free-form [metadata] table. */
  metadata: Record<string, unknown>;
}

export interface BuildpackDescriptor extends ModuleDescriptorBase {
  kind: 'buildpack';
  clearEnv: boolean;
  sbomFormats: string[];
  execEnv: string[];
  /** Composite buildpacks only; empty for component buildpacks. */
  order: OrderGroup[];
  stacks: { id: string; mixins: string[] }[];
}

export interface ExtensionDescriptor extends ModuleDescriptorBase {
  kind: 'extension';
}

export type ModuleDescriptor = BuildpackDescriptor | ExtensionDescriptor;

/** A require in a build plan written by bin/detect (buildpack.md, "Buildpack Interface: Detection"). */
export interface PlanRequire {
  name: string;
  metadata: Record<string, unknown>;
}

export interface PlanProvide {
  name: string;
}

export interface PlanSection {
  provides: PlanProvide[];
  requires: PlanRequire[];
}

/** The build plan a module's bin/detect writes: a top-level pair and [[or]] alternatives. */
export interface DetectPlan extends PlanSection {
  or: PlanSection[];
}

/** order.toml: [[order]] and [[order-extensions]]. */
export interface OrderFile {
  order: OrderGroup[];
  orderExtensions: OrderGroup[];
}

/** A member of group.toml's [[group]] / [[group-extensions]]. */
export interface GroupMember {
  id: string;
  version: string;
  api: string;
  homepage?: string;
}

export interface GroupFile {
  group: GroupMember[];
  groupExtensions: GroupMember[];
}

export interface PlanProvider {
  id: string;
  version: string;
  extension?: boolean;
}

/** One entry of plan.toml (detector output). */
export interface PlanEntry {
  providers: PlanProvider[];
  requires: PlanRequire[];
}

export interface PlanFile {
  entries: PlanEntry[];
}

/** run.toml: [[images]] image/mirrors. */
export interface RunImageRef {
  image: string;
  mirrors: string[];
}

export interface RunFile {
  images: RunImageRef[];
}

/** The legacy stack.toml (Platform < 0.12): [run-image] image/mirrors. */
export interface StackFile {
  runImage?: RunImageRef;
}

/** <layers>/<bp>/<layer>.toml */
export interface LayerMetadataFile {
  types: { launch: boolean; build: boolean; cache: boolean };
  metadata: Record<string, unknown>;
}

export interface ProcessSpec {
  type: string;
  command: string[];
  args: string[];
  direct: boolean;
  default: boolean;
  workingDir?: string;
  execEnv?: string[];
}

export interface Slice {
  paths: string[];
}

export interface LaunchLabel {
  key: string;
  value: string;
}

/** <layers>/<bp>/launch.toml */
export interface LaunchFile {
  labels: LaunchLabel[];
  processes: ProcessSpec[];
  slices: Slice[];
}

/** <layers>/<bp>/build.toml */
export interface BuildFile {
  unmet: { name: string }[];
}

export interface ExtendArg {
  name: string;
  value: string;
}

/** <generated>/<ext>/extend-config.toml */
export interface ExtendConfig {
  build: { args: ExtendArg[] };
  run: { args: ExtendArg[] };
}

/** project.toml (project descriptor 0.2, [_] and [io.buildpacks]). */
export interface ProjectDescriptor {
  schemaVersion: string;
  id: string;
  name: string;
  version: string;
  include: string[];
  exclude: string[];
  /** [[io.buildpacks.build.env]] */
  buildEnv: { name: string; value: string }[];
  /** [[io.buildpacks.group]] — a project-chosen group of buildpacks, when given. */
  group: ModuleRef[];
  /** [[io.buildpacks.pre.group]] / [[io.buildpacks.post.group]]: buildpacks added before/after the chosen group. */
  preGroup?: ModuleRef[];
  postGroup?: ModuleRef[];
  builder?: string;
  /** `_.source-url` (legacy: `project.source-url`), when given: written into io.buildpacks.project.metadata. */
  sourceUrl?: string;
  metadata: Record<string, unknown>;
}

/** A [[buildpacks]] / [[extensions]] entry of builder.toml. */
export interface BuilderModuleEntry {
  id: string;
  version: string;
  /** A local directory, a .tgz/.tar/.cnb file or an image reference, as written (resolved by builder/). */
  uri: string;
}

/** builder.toml in pack's format, normalised. */
export interface BuilderConfig {
  description: string;
  buildpacks: BuilderModuleEntry[];
  extensions: BuilderModuleEntry[];
  order: OrderGroup[];
  orderExtensions: OrderGroup[];
  /** [build] image, or the older [stack] build-image. */
  buildImage: string;
  /** [[run.images]], or the older [stack] run-image/run-image-mirrors. */
  runImages: RunImageRef[];
  /** [[build.env]]; suffix (default/override/append/prepend) and delim as pack accepts them. */
  buildEnv: { name: string; value: string; suffix?: string; delim?: string }[];
  /** [[targets]] when given (newer pack configs). */
  targets?: Target[];
  /** [stack] id when given (legacy). */
  stackId?: string;
  lifecycle?: { version?: string; uri?: string };
}
