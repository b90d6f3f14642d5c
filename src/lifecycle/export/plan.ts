/**
 * The pure half of export (platform.md, "`exporter`"): which launch layers to tar or reuse, the generated layers'
 * files, the layer order, the image config and the labels. export/export.ts does the I/O around it.
 */
import { LIFECYCLE_DIR } from '../../cnb/paths.js';
import { ExitCode, KilnError } from '../../errors.js';
import {
  BUILD_METADATA_LABEL,
  encodeBuildMetadata,
  encodeLifecycleMetadata,
  encodeProjectMetadata,
  LIFECYCLE_METADATA_LABEL,
  PROJECT_METADATA_LABEL,
  REBASABLE_LABEL,
  type BuildpackLayersLabel,
  type LifecycleMetadata,
  type ModuleLabel,
} from '../../image/lifecycle-labels.js';
import type { TarFileEntry } from '../../image/tar-files.js';
import { PLATFORM_API } from '../../cnb/api-version.js';
import type { GroupMember, LayerMetadataFile } from '../../cnb/models.js';
import { configMetadataToml } from './config-metadata.js';
import { extensionLayerCreatedBy } from '../extend/plan.js';
import type { ExportInput } from './types.js';
import { LAUNCHER_PATH, LAUNCHER_SCRIPT, PROCESS_DIR } from '../launcher/launcher-script.js';
import { processTableFiles } from '../launcher/process-table.js';
import { APP_DIR, escapeId, LAYERS_DIR } from '../phase-context.js';

export const DEFAULT_CREATED = '1980-01-01T00:00:01Z';
/** Recorded in io.buildpacks.build.metadata `launcher` (ours, not the lifecycle's). */
export const KILN_LAUNCHER_VERSION = 'kiln-sh-1';
export const KILN_LAUNCHER_REPOSITORY = 'kiln';

function exportError(cause: string, hint?: string): KilnError {
  return new KilnError({ action: 'export the app image', cause, exitCode: ExitCode.exportFailed, ...(hint !== undefined ? { hint } : {}) });
}

/** Process types become file names and symlinks: the lifecycle rejects these characters (buildpack.md, "launch.toml (TOML)"; platform.md, "`exporter` Inputs"). */
const BAD_TYPE = /[/><:|&\\]/;

export function checkProcessTypes(input: Pick<ExportInput, 'processes'>): void {
  for (const p of input.processes) {
    if (p.type === '' || p.type === '.' || p.type === '..' || BAD_TYPE.test(p.type)) {
      throw exportError(`process type "${p.type}" (from ${p.buildpackId}) contains a character that is not allowed`, 'use letters, digits, ".", "_" and "-" in process types');
    }
    if (p.command.length === 0) throw exportError(`process type "${p.type}" (from ${p.buildpackId}) has no command`);
  }
}

/**
 * Entrypoint per platform.md, "`exporter` Outputs": the platform's process type (must exist, platform.md, "`exporter` Inputs"), else the buildpack
 * default (when it names a process), else the bare launcher.
 */
export function selectEntrypoint(input: Pick<ExportInput, 'processes' | 'defaultProcessType' | 'processTypeOverride'>): { entrypoint: string; warning?: string } {
  const types = new Set(input.processes.map((p) => p.type));
  if (input.processTypeOverride !== undefined && input.processTypeOverride !== '') {
    if (!types.has(input.processTypeOverride)) {
      const known = [...types].join(', ') || 'none';
      throw exportError(`process type "${input.processTypeOverride}" is not defined by any buildpack (defined: ${known})`, 'pick one of the defined process types');
    }
    return { entrypoint: `${PROCESS_DIR}/${input.processTypeOverride}` };
  }
  const dflt = input.defaultProcessType;
  if (dflt !== undefined && dflt !== '') {
    if (types.has(dflt)) return { entrypoint: `${PROCESS_DIR}/${dflt}` };
    return { entrypoint: LAUNCHER_PATH, warning: `default process type "${dflt}" is not defined; the image starts the launcher` };
  }
  return { entrypoint: LAUNCHER_PATH };
}

export interface LaunchLayerRef {
  buildpackId: string;
  /** Version of the buildpack, for history. */
  version: string;
  name: string;
  metadata: LayerMetadataFile;
  /** Path of the layer dir inside the layers volume, e.g. "example_node/node". */
  volumePath: string;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** launch=true layers: buildpacks in group order, layers sorted by name (buildpack.md, "Phase #6: Export"). */
export function launchLayers(input: Pick<ExportInput, 'group' | 'layerMetadata'>): LaunchLayerRef[] {
  const out: LaunchLayerRef[] = [];
  for (const bp of input.group) {
    const layers = input.layerMetadata[bp.id] ?? {};
    for (const name of Object.keys(layers).sort(byName)) {
      const metadata = layers[name] as LayerMetadataFile;
      if (!metadata.types.launch) continue;
      out.push({ buildpackId: bp.id, version: bp.version, name, metadata, volumePath: `${escapeId(bp.id)}/${name}` });
    }
  }
  return out;
}

export type LaunchLayerDecision = { kind: 'added' | 'reused'; diffId: string; fromPrevious: false } | { kind: 'reused'; diffId: string; fromPrevious: true };

/**
 * buildpack.md, "Phase #6: Export": a present dir is tarred (reused when the diffID matches the previous image's); an absent
 * one is taken from the previous image, unless it is cache=true (buildpack.md, "Launch Layers") or the previous image does
 * not have it (both export errors, exit 62).
 */
export function decideLaunchLayer(layer: LaunchLayerRef, tarredDiffId: string | undefined, previous: LifecycleMetadata | undefined): LaunchLayerDecision {
  const prevSha = previous?.buildpacks.find((b) => b.key === layer.buildpackId)?.layers[layer.name]?.sha;
  const id = `${layer.buildpackId}:${layer.name}`;
  if (tarredDiffId !== undefined) {
    return { kind: prevSha === tarredDiffId ? 'reused' : 'added', diffId: tarredDiffId, fromPrevious: false };
  }
  if (layer.metadata.types.cache) {
    throw exportError(`layer '${id}' is launch=true and cache=true but has no contents`, 'the buildpack must keep the layer directory, or set cache=false to reuse it from the previous image');
  }
  if (prevSha === undefined || prevSha === '') {
    throw exportError(`cannot reuse layer '${id}': the previous image has no metadata for it`, 'the buildpack must create the layer directory');
  }
  return { kind: 'reused', diffId: prevSha, fromPrevious: true };
}

// ---------------------------------------------------------------- generated layers (buildpack.md, "Phase #6: Export")

/** /cnb, /cnb/lifecycle (root, 0755) and /cnb/lifecycle/launcher (root, 0755). */
export function launcherLayerEntries(): TarFileEntry[] {
  return [
    { path: 'cnb', type: 'directory', mode: 0o755 },
    { path: 'cnb/lifecycle', type: 'directory', mode: 0o755 },
    { path: LAUNCHER_PATH.slice(1), type: 'file', mode: 0o755, content: LAUNCHER_SCRIPT },
  ];
}

/** <layers>/config: metadata.toml (8.6) plus our launcher's process table, owned by the CNB user. */
export function configLayerEntries(input: ExportInput): TarFileEntry[] {
  const own = { uid: input.user.uid, gid: input.user.gid };
  const base = `${LAYERS_DIR.slice(1)}/config`;
  const toml = configMetadataToml({
    group: input.group,
    groupExtensions: input.groupExtensions,
    processes: input.processes,
    ...(input.defaultProcessType !== undefined ? { defaultProcessType: input.defaultProcessType } : {}),
    slices: input.slices,
    labels: input.labels,
  });
  const table = processTableFiles(input.group, input.processes, input.appDir ?? APP_DIR);
  return [
    { path: LAYERS_DIR.slice(1), type: 'directory', mode: 0o755, ...own },
    { path: base, type: 'directory', mode: 0o755, ...own },
    { path: `${base}/metadata.toml`, type: 'file', mode: 0o644, content: toml, ...own },
    ...table.dirs.map((d): TarFileEntry => ({ path: `${base}/${d}`, type: 'directory', mode: 0o755, ...own })),
    ...table.files.map((f): TarFileEntry => ({ path: `${base}/${f.path}`, type: 'file', mode: 0o644, content: f.content, ...own })),
  ];
}

/** /cnb/process/<type> -> /cnb/lifecycle/launcher; undefined when there are no processes. */
export function processTypesLayerEntries(input: Pick<ExportInput, 'processes'>): TarFileEntry[] | undefined {
  if (input.processes.length === 0) return undefined;
  const types = [...new Set(input.processes.map((p) => p.type))].sort(byName);
  return [
    { path: 'cnb', type: 'directory', mode: 0o755 },
    { path: PROCESS_DIR.slice(1), type: 'directory', mode: 0o755 },
    ...types.map((t): TarFileEntry => ({ path: `${PROCESS_DIR.slice(1)}/${t}`, type: 'symlink', linkname: LAUNCHER_PATH, mode: 0o777 })),
  ];
}

// ---------------------------------------------------------------- the image

/** DiffIDs of the layers export produced or reused, by role. */
export interface BuiltLayers {
  /** In launchLayers() order. */
  buildpackLayers: { buildpackId: string; name: string; diffId: string }[];
  sbom?: string;
  /** One per slice, then the final app layer. */
  app: string[];
  launcher: string;
  config: string;
  processTypes?: string;
}

export interface PlannedLayer {
  diffId: string;
  createdBy: string;
}

export interface ImagePlan {
  /** Layers of the (extended) run image, bottom to top: the daemon has them. */
  baseLayers: string[];
  /** Extension layers (part of baseLayers' top) with their history. */
  extensionHistory: PlannedLayer[];
  /** Layers export adds above the base, bottom to top. */
  layers: PlannedLayer[];
  created: string;
  config: { env: string[]; user: string; workingDir: string; entrypoint: string[]; cmd: string[]; labels: Record<string, string> };
  warnings: string[];
}

/** A group member as io.buildpacks.build.metadata lists it: id, version, homepage, api (platform.md schema). */
function moduleLabelOf(g: GroupMember): ModuleLabel {
  return { id: g.id, version: g.version, ...(g.homepage ? { homepage: g.homepage } : {}), ...(g.api ? { api: g.api } : {}) };
}

/** Replaces or appends NAME=value in an env list, keeping the list's order (platform.md, "`exporter` Outputs"). */
function setEnv(env: string[], name: string, value: string): string[] {
  const entry = `${name}=${value}`;
  const i = env.findIndex((e) => e === name || e.startsWith(`${name}=`));
  if (i < 0) return [...env, entry];
  const out = [...env];
  out[i] = entry;
  return out;
}

function envValue(env: string[], name: string): string | undefined {
  const e = env.find((x) => x.startsWith(`${name}=`));
  return e?.slice(name.length + 1);
}

export function planImage(input: ExportInput, built: BuiltLayers): ImagePlan {
  checkProcessTypes(input);
  const { entrypoint, warning } = selectEntrypoint(input);
  const run = input.runImage;
  // platform.md, "`exporter`": the extended image's config replaces the run image's.
  const baseInfo = run.extended?.info ?? run.info;
  const base = baseInfo.config;

  const layers: PlannedLayer[] = [];
  const refs = launchLayers(input);
  for (const b of built.buildpackLayers) {
    const ref = refs.find((r) => r.buildpackId === b.buildpackId && r.name === b.name);
    layers.push({ diffId: b.diffId, createdBy: `Layer: '${b.name}', Created by buildpack: ${b.buildpackId}@${ref?.version ?? ''}` });
  }
  if (built.sbom !== undefined) layers.push({ diffId: built.sbom, createdBy: 'Software Bill-of-Materials' });
  built.app.forEach((diffId, i) => layers.push({ diffId, createdBy: built.app.length === 1 ? 'Application Layer' : `Application Slice: ${i + 1}` }));
  layers.push({ diffId: built.launcher, createdBy: 'Buildpacks Application Launcher' });
  layers.push({ diffId: built.config, createdBy: 'Buildpacks Launcher Config' });
  if (built.processTypes !== undefined) layers.push({ diffId: built.processTypes, createdBy: 'Buildpacks Process Types' });

  let env = [...base.env];
  env = setEnv(env, 'CNB_LAYERS_DIR', LAYERS_DIR);
  env = setEnv(env, 'CNB_APP_DIR', input.appDir ?? APP_DIR);
  env = setEnv(env, 'CNB_PLATFORM_API', PLATFORM_API);
  env = setEnv(env, 'CNB_DEPRECATION_MODE', 'quiet');
  const runPath = envValue(base.env, 'PATH');
  env = setEnv(env, 'PATH', `${PROCESS_DIR}:${LIFECYCLE_DIR}${runPath !== undefined && runPath !== '' ? `:${runPath}` : ''}`);

  const labels: Record<string, string> = { ...base.labels };
  for (const l of input.labels) labels[l.key] = l.value;
  for (const [k, v] of Object.entries(input.platformLabels ?? {})) labels[k] = v;
  labels[LIFECYCLE_METADATA_LABEL] = encodeLifecycleMetadata(lifecycleMetadata(input, built));
  labels[BUILD_METADATA_LABEL] = encodeBuildMetadata({
    buildpacks: input.group.map(moduleLabelOf),
    extensions: input.groupExtensions.map(moduleLabelOf),
    processes: input.processes.map((p) => ({
      type: p.type,
      command: p.command,
      args: p.args,
      direct: p.direct,
      buildpackId: p.buildpackId,
      ...(p.workingDir !== undefined ? { workingDir: p.workingDir } : {}),
      ...(p.execEnv !== undefined ? { execEnv: p.execEnv } : {}),
    })),
    ...(input.defaultProcessType !== undefined ? { defaultProcessType: input.defaultProcessType } : {}),
    launcher: { version: KILN_LAUNCHER_VERSION, source: { git: { repository: KILN_LAUNCHER_REPOSITORY, commit: '' } } },
  });
  labels[PROJECT_METADATA_LABEL] = encodeProjectMetadata(input.projectMetadata);
  // Without run-image extension the label is inherited untouched (platform.md, "`exporter`").
  if (run.extended !== undefined) labels[REBASABLE_LABEL] = String(run.extended.rebasable);

  return {
    baseLayers: [...baseInfo.layers],
    extensionHistory: (run.extended?.extensionLayers ?? []).map((l) => ({ diffId: l.diffId, createdBy: extensionLayerCreatedBy(l.command, l.extensionId) })),
    layers,
    created: input.created ?? DEFAULT_CREATED,
    config: { env, user: base.user, workingDir: input.appDir ?? APP_DIR, entrypoint: [entrypoint], cmd: [], labels },
    warnings: warning !== undefined ? [warning] : [],
  };
}

/** io.buildpacks.lifecycle.metadata (platform.md, "Labels"); runImage.topLayer is the ORIGINAL run image's top. */
export function lifecycleMetadata(input: ExportInput, built: BuiltLayers): LifecycleMetadata {
  const buildpacks: BuildpackLayersLabel[] = input.group.map((g) => {
    const layers: BuildpackLayersLabel['layers'] = {};
    for (const b of built.buildpackLayers.filter((x) => x.buildpackId === g.id)) {
      const meta = input.layerMetadata[g.id]?.[b.name];
      layers[b.name] = { sha: b.diffId, data: meta?.metadata ?? {}, build: meta?.types.build ?? false, launch: true, cache: meta?.types.cache ?? false };
    }
    const store = input.storeMetadata[g.id];
    return { key: g.id, version: g.version, layers, ...(store !== undefined ? { store: { metadata: store } } : {}) };
  });
  const run = input.runImage;
  return {
    app: built.app.map((sha) => ({ sha })),
    ...(built.sbom !== undefined ? { sbom: { sha: built.sbom } } : {}),
    config: { sha: built.config },
    launcher: { sha: built.launcher },
    processTypes: { sha: built.processTypes ?? '' },
    buildpacks,
    runImage: { topLayer: run.info.layers[run.info.layers.length - 1] ?? '', reference: run.reference, image: run.image, mirrors: run.mirrors },
    stack: { runImage: { image: run.image, mirrors: run.mirrors } },
  };
}
