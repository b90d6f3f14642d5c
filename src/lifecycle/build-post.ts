/**
 * PURE: what happens after one buildpack's bin/build (buildpack.md, "Phase #5: Build", "launch.toml (TOML)", "Software-Bill-of-Materials", "build.toml (TOML)"), decided from
 * the buildpack directory's entries as copied out of the layers volume. Failures are KilnErrors with the
 * lifecycle's "generic build error" exit code 52 naming the buildpack (platform.md, "`builder`" Outputs).
 */
import { ExitCode, KilnError } from '../errors.js';
import type { ReadTarEntry } from '../image/tar-files.js';
import { parseBuildFile } from '../cnb/build-file.js';
import { parseLaunchFile } from '../cnb/launch-file.js';
import { parseLayerMetadata } from '../cnb/layer-metadata.js';
import type { LaunchFile, LayerMetadataFile, PlanRequire, SpecIssue } from '../cnb/models.js';
import { declaresSbomMediaType, parseSbomFileName } from '../cnb/sbom.js';
import { formatIssue } from '../cnb/spec-error.js';
import { isTable } from '../cnb/decode.js';
import { parseToml } from '../cnb/toml.js';
import type { BuildLayerEnv, EnvFile, RootDir } from './build-env.js';
import { escapeId } from './phase-context.js';

export interface PostInput {
  id: string;
  version: string;
  /** Buildpack API. */
  api: string;
  sbomFormats: readonly string[];
  /** Absolute path of the buildpack's layers dir in module containers, e.g. /layers/acme_node. */
  layersDir: string;
  /** Entries of the buildpack dir, paths relative to it ("node.toml", "node/bin", "node/env/FOO"). */
  entries: readonly ReadTarEntry[];
  /** This buildpack's plan entries (buildpack.md, "Buildpack Plan (TOML)"). */
  plan: readonly PlanRequire[];
}

export interface PostLayer {
  name: string;
  metadata: LayerMetadataFile;
  /** Whether <layer>/ exists. */
  hasDir: boolean;
  /** Bytes of the regular files below <layer>/ (export commits or streams big launch layers). */
  bytes?: number;
  /**
   * The layer's SBOM files `<layer>.sbom.<format>.json` by format ("cdx" -> JSON text): kept with a
   * cached layer's metadata so a rebuild restores them (buildpack.md "Layer Types": metadata and SBOM).
   */
  sbom?: Record<string, string>;
}

export interface SbomCopy {
  /** Path relative to the layers root, e.g. "sbom/launch/acme_node/node/sbom.cdx.json". */
  to: string;
  content: Buffer;
}

export interface PostResult {
  /** Every layer with a .toml, alphabetically (ignored ones included, with all types false). */
  layers: PostLayer[];
  /** Layers to rename to <layer>.ignore (all types false and a directory exists, buildpack.md, "Phase #5: Build", "Ignored Layers"). */
  ignore: string[];
  /** build = true layers, for env layering of later buildpacks. */
  buildLayers: (BuildLayerEnv & { name: string })[];
  /** Plan entry names the buildpack met (all not named in build.toml's unmet). */
  met: string[];
  unmet: string[];
  sbom: SbomCopy[];
  launch: LaunchFile;
  /** store.toml [metadata], when the file exists. */
  store?: Record<string, unknown>;
  warnings: string[];
}

/** Files in the per-buildpack dir that are not layer metadata (buildpack.md, "Phase #5: Build", "Layer Content Metadata (TOML)"). */
const BUILDPACK_FILES = new Set(['launch.toml', 'build.toml', 'store.toml']);

function fail(id: string, cause: string): KilnError {
  return new KilnError({
    action: `process the output of buildpack ${id}`,
    cause,
    subject: id,
    exitCode: ExitCode.buildError,
    hint: `fix the files buildpack ${id} writes to its layers directory (see the CNB buildpack spec)`,
  });
}

function issuesText(issues: readonly SpecIssue[]): string {
  return issues.filter((i) => i.severity === 'error').map(formatIssue).join('; ');
}

function envFilesIn(entries: readonly ReadTarEntry[], dir: string): EnvFile[] {
  const prefix = `${dir}/`;
  // Only regular files directly in the dir; directories and symlinks are skipped (buildpack.md, "Environment Variable Modification Rules").
  return entries
    .filter((e) => e.type === 'file' && e.path.startsWith(prefix) && !e.path.slice(prefix.length).includes('/'))
    .map((e) => ({ name: e.path.slice(prefix.length), content: e.content.toString('utf8') }));
}

/**
 * Why a layer name (a <name>.toml in the buildpack's layers dir) is refused, or undefined. `.` and `..`
 * (and the empty name of a bare `.toml`) would make the layer its buildpack's dir or the layers root;
 * quotes, backslashes and control characters have no place in a dir name that ends up in labels,
 * messages and image paths. Everything else is passed only as an argument (sh-script.ts), never parsed.
 */
export function layerNameProblem(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return 'a layer name must not be empty, "." or ".."';
  // eslint-disable-next-line no-control-regex
  if (/["'`\\\x00-\x1f\x7f]/.test(name)) return 'a layer name must not contain quotes, backslashes or control characters';
  return undefined;
}

export function postProcess(input: PostInput): PostResult {
  const { id, entries } = input;
  const warnings: string[] = [];
  const top = entries.filter((e) => e.type === 'file' && !e.path.includes('/'));
  const dirs = new Set(entries.filter((e) => e.type === 'directory').map((e) => e.path));
  const textOf = (name: string): string | undefined => top.find((e) => e.path === name)?.content.toString('utf8');

  const bytes = new Map<string, number>();
  for (const e of entries) {
    const slash = e.path.indexOf('/');
    if (slash <= 0 || e.type !== 'file') continue;
    const layer = e.path.slice(0, slash);
    bytes.set(layer, (bytes.get(layer) ?? 0) + (e.size ?? e.content.length));
  }
  const layers: PostLayer[] = [];
  for (const f of top.filter((e) => e.path.endsWith('.toml') && !BUILDPACK_FILES.has(e.path)).sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const name = f.path.slice(0, -'.toml'.length);
    const bad = layerNameProblem(name);
    if (bad !== undefined) throw fail(id, `layer ${JSON.stringify(name)} (${input.layersDir}/${f.path}): ${bad}`);
    const parsed = parseLayerMetadata(f.content.toString('utf8'), `${input.layersDir}/${f.path}`);
    if (parsed.value === undefined || parsed.issues.some((i) => i.severity === 'error')) throw fail(id, issuesText(parsed.issues));
    layers.push({ name, metadata: parsed.value, hasDir: dirs.has(name), ...(dirs.has(name) ? { bytes: bytes.get(name) ?? 0 } : {}) });
  }
  const ignore = layers.filter((l) => l.hasDir && !l.metadata.types.launch && !l.metadata.types.build && !l.metadata.types.cache).map((l) => l.name);

  const buildLayers = layers
    .filter((l) => l.metadata.types.build && l.hasDir)
    .map((l) => ({
      name: l.name,
      path: `${input.layersDir}/${l.name}`,
      rootDirs: (['bin', 'lib', 'include', 'pkgconfig'] as RootDir[]).filter((d) => dirs.has(`${l.name}/${d}`)),
      env: envFilesIn(entries, `${l.name}/env`),
      envBuild: envFilesIn(entries, `${l.name}/env.build`),
    }));

  // build.toml: every unmet name must be in this buildpack's plan (buildpack.md, "Unmet Buildpack Plan Entries").
  let unmet: string[] = [];
  const buildText = textOf('build.toml');
  if (buildText !== undefined) {
    const parsed = parseBuildFile(buildText, `${input.layersDir}/build.toml`);
    if (parsed.value === undefined || parsed.issues.some((i) => i.severity === 'error')) throw fail(id, issuesText(parsed.issues));
    const planNames = new Set(input.plan.map((p) => p.name));
    for (const u of parsed.value.unmet) {
      if (!planNames.has(u.name)) throw fail(id, `build.toml: unmet entry "${u.name}" is not in the buildpack plan`);
    }
    unmet = parsed.value.unmet.map((u) => u.name);
  }
  const met = [...new Set(input.plan.map((p) => p.name).filter((n) => !unmet.includes(n)))];

  const sbom = sbomCopies(input, top, layers);

  let launch: LaunchFile = { labels: [], processes: [], slices: [] };
  const launchText = textOf('launch.toml');
  if (launchText !== undefined) {
    const parsed = parseLaunchFile(launchText, `${input.layersDir}/launch.toml`, input.api);
    if (parsed.value === undefined || parsed.issues.some((i) => i.severity === 'error')) throw fail(id, issuesText(parsed.issues));
    warnings.push(...parsed.issues.filter((i) => i.severity === 'warning').map(formatIssue));
    launch = parsed.value;
  }

  let store: Record<string, unknown> | undefined;
  const storeText = textOf('store.toml');
  if (storeText !== undefined) {
    const parsed = parseToml(storeText, `${input.layersDir}/store.toml`);
    if (parsed.value === undefined) throw fail(id, issuesText(parsed.issues));
    const meta = parsed.value.metadata;
    store = isTable(meta) ? meta : {};
  }

  return { layers, ignore, buildLayers, met, unmet, sbom, launch, ...(store !== undefined ? { store } : {}), warnings };
}

/** SBOM files: validated against sbom-formats and mapped to their <layers>/sbom destinations (buildpack.md, "Software-Bill-of-Materials"); a layer's own go on its PostLayer too. */
function sbomCopies(input: PostInput, top: readonly ReadTarEntry[], layers: PostLayer[]): SbomCopy[] {
  const out: SbomCopy[] = [];
  const bp = escapeId(input.id);
  for (const f of top) {
    const name = parseSbomFileName(f.path);
    if (name === undefined) continue;
    if (name.format === undefined || name.mediaType === undefined) throw fail(input.id, `SBOM file ${f.path}: unknown format "${name.ext}" (use cdx, spdx or syft)`);
    if (!declaresSbomMediaType(input.sbomFormats, name.mediaType)) {
      throw fail(input.id, `SBOM file ${f.path}: media type ${name.mediaType} is not declared in the buildpack's sbom-formats`);
    }
    const file = `sbom.${name.format}.json`;
    if (name.kind === 'launch') out.push({ to: `sbom/launch/${bp}/${file}`, content: f.content });
    else if (name.kind === 'build') out.push({ to: `sbom/build/${bp}/${file}`, content: f.content });
    else {
      const layer = layers.find((l) => l.name === name.layer);
      if (layer === undefined) continue; // files for layers without a .toml are ignored
      const t = layer.metadata.types;
      layer.sbom = { ...layer.sbom, [name.format]: f.content.toString('utf8') };
      out.push({ to: `sbom/${t.launch ? 'launch' : 'build'}/${bp}/${layer.name}/${file}`, content: f.content });
      if (t.cache) out.push({ to: `sbom/cache/${bp}/${layer.name}/${file}`, content: f.content });
    }
  }
  return out;
}

/** A process as aggregated over the group, with the buildpack that defined it (same shape as export's). */
export type AggregatedProcess = LaunchFile['processes'][number] & { buildpackId: string };

export interface LaunchAggregate {
  /** Keyed by type: later definitions replace earlier ones (buildpack.md, "launch.toml (TOML)"). */
  processes: Map<string, AggregatedProcess>;
  defaultType?: string;
  labels: LaunchFile['labels'];
  slices: LaunchFile['slices'];
  warnings: string[];
}

export function emptyLaunchAggregate(): LaunchAggregate {
  return { processes: new Map(), labels: [], slices: [], warnings: [] };
}

/**
 * Adds one buildpack's launch.toml (buildpack.md, "launch.toml (TOML)"): a `default = true` process becomes the default;
 * a later non-default process of the default's type clears it, with a warning. Labels and slices append.
 */
export function addLaunch(agg: LaunchAggregate, buildpackId: string, launch: LaunchFile): LaunchAggregate {
  const processes = new Map(agg.processes);
  let defaultType = agg.defaultType;
  const warnings = [...agg.warnings];
  for (const p of launch.processes) {
    processes.set(p.type, { ...p, buildpackId });
    if (p.default) defaultType = p.type;
    else if (p.type === defaultType) {
      warnings.push(`buildpack ${buildpackId} redefines process "${p.type}" without default = true: there is no default process any more`);
      defaultType = undefined;
    }
  }
  return {
    processes,
    ...(defaultType !== undefined ? { defaultType } : {}),
    labels: [...agg.labels, ...launch.labels],
    slices: [...agg.slices, ...launch.slices],
    warnings,
  };
}

/** The final process list, sorted by type (buildpack.md, "launch.toml (TOML)"). */
export function sortedProcesses(agg: LaunchAggregate): AggregatedProcess[] {
  return [...agg.processes.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/** Removes the entries whose name the buildpack met, so later providers never see them (buildpack.md, "build.toml (TOML)"). */
export function removeMet<E extends { requires: readonly PlanRequire[] }>(entries: readonly E[], met: readonly string[]): E[] {
  return entries.filter((e) => !e.requires.some((r) => met.includes(r.name)));
}
