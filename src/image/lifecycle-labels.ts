/**
 * JSON codecs for the labels the exporter writes on an app image (platform.md, "Labels") and rebase, inspect and
 * analyze read back. Encoding produces the exact key names and omissions the real lifecycle uses, so
 * images built by kiln and by `pack` are interchangeable. Decoding is lenient about optional keys
 * (an image from an older lifecycle may lack `process-types` or `store`) and strict about types.
 */

import { BUILD_METADATA_LABEL, LIFECYCLE_METADATA_LABEL, PROJECT_METADATA_LABEL, REBASABLE_LABEL } from '../cnb/labels.js';

export { BUILD_METADATA_LABEL, LIFECYCLE_METADATA_LABEL, PROJECT_METADATA_LABEL, REBASABLE_LABEL };

export interface LayerSha {
  /** `sha256:<hex>` diffID; "" where the lifecycle writes an empty placeholder. */
  sha: string;
}

/** One launch layer as recorded in the label: its diffID plus the layer's `.toml` content. */
export interface LayerLabel {
  sha: string;
  data: Record<string, unknown>;
  build: boolean;
  launch: boolean;
  cache: boolean;
}

export interface BuildpackLayersLabel {
  /** Buildpack id (the lifecycle calls it `key`). */
  key: string;
  version: string;
  layers: Record<string, LayerLabel>;
  /** `[metadata]` of `<layers>/<bp>/store.toml`; only when the file existed. */
  store?: { metadata: Record<string, unknown> };
}

export interface RunImageLabel {
  /** Top layer diffID of the ORIGINAL (un-extended) run image (platform.md, "`exporter`", "`io.buildpacks.lifecycle.metadata` (JSON)"). */
  topLayer: string;
  /** Registry digest reference or daemon image id of the original run image. */
  reference: string;
  image: string;
  mirrors: string[];
}

export interface LifecycleMetadata {
  app: LayerSha[];
  sbom?: LayerSha;
  config: LayerSha;
  launcher: LayerSha;
  processTypes: LayerSha;
  buildpacks: BuildpackLayersLabel[];
  runImage: RunImageLabel;
  /** Deprecated duplicate of runImage.image/mirrors the lifecycle still always writes. */
  stack: { runImage: { image: string; mirrors: string[] } };
}

export interface ModuleLabel {
  id: string;
  version: string;
  homepage?: string;
  /**
   * The Buildpack API the module implements: platform.md's `io.buildpacks.build.metadata` schema has it
   * for buildpacks and extensions (the lifecycle leaves it out; kiln follows the spec, docs/conformance.md).
   */
  api?: string;
}

export interface ProcessLabel {
  type: string;
  command: string[];
  args: string[];
  direct: boolean;
  buildpackId: string;
  workingDir?: string;
  execEnv?: string[];
}

export interface BuildMetadata {
  buildpacks: ModuleLabel[];
  /** Every member of group-extensions; omitted from the JSON when empty. */
  extensions: ModuleLabel[];
  processes: ProcessLabel[];
  defaultProcessType?: string;
  launcher: { version: string; source: { git: { repository: string; commit: string } } };
}

/** `io.buildpacks.project.metadata`: project-metadata.toml as JSON; `{}` when absent. */
export type ProjectMetadata = Record<string, unknown>;

/** A label that is present but not what the schema says. */
export class InvalidLabelError extends Error {
  constructor(
    readonly label: string,
    readonly detail: string,
  ) {
    super(`label ${label} is invalid: ${detail}`);
    this.name = 'InvalidLabelError';
  }
}

// ---------------------------------------------------------------- encoding

function shaJson(l: LayerSha): { sha: string } {
  return { sha: l.sha };
}

/** Key order follows the lifecycle's struct order so label text is stable and diffable. */
export function encodeLifecycleMetadata(m: LifecycleMetadata): string {
  const out: Record<string, unknown> = { app: m.app.map(shaJson) };
  if (m.sbom !== undefined) out.sbom = shaJson(m.sbom);
  out.config = shaJson(m.config);
  out.launcher = shaJson(m.launcher);
  out['process-types'] = shaJson(m.processTypes);
  out.buildpacks = m.buildpacks.map((bp) => {
    const layers: Record<string, unknown> = {};
    for (const name of Object.keys(bp.layers).sort()) {
      const l = bp.layers[name] as LayerLabel;
      layers[name] = { sha: l.sha, data: l.data, build: l.build, launch: l.launch, cache: l.cache };
    }
    return { key: bp.key, version: bp.version, layers, ...(bp.store !== undefined ? { store: { metadata: bp.store.metadata } } : {}) };
  });
  out.runImage = {
    topLayer: m.runImage.topLayer,
    reference: m.runImage.reference,
    image: m.runImage.image,
    ...(m.runImage.mirrors.length > 0 ? { mirrors: m.runImage.mirrors } : {}),
  };
  out.stack = { runImage: { image: m.stack.runImage.image, ...(m.stack.runImage.mirrors.length > 0 ? { mirrors: m.stack.runImage.mirrors } : {}) } };
  return JSON.stringify(out);
}

function moduleJson(m: ModuleLabel): Record<string, unknown> {
  return { id: m.id, version: m.version, ...(m.homepage ? { homepage: m.homepage } : {}), ...(m.api ? { api: m.api } : {}) };
}

export function encodeBuildMetadata(m: BuildMetadata): string {
  const out: Record<string, unknown> = { buildpacks: m.buildpacks.map(moduleJson) };
  if (m.extensions.length > 0) out.extensions = m.extensions.map(moduleJson);
  out.processes = m.processes.map((p) => ({
    type: p.type,
    command: p.command,
    args: p.args,
    direct: p.direct,
    buildpackID: p.buildpackId,
    ...(p.workingDir !== undefined && p.workingDir !== '' ? { 'working-dir': p.workingDir } : {}),
    ...(p.execEnv !== undefined && p.execEnv.length > 0 ? { 'exec-env': p.execEnv } : {}),
  }));
  if (m.defaultProcessType !== undefined && m.defaultProcessType !== '') out['buildpack-default-process-type'] = m.defaultProcessType;
  out.launcher = m.launcher;
  return JSON.stringify(out);
}

export function encodeProjectMetadata(m: ProjectMetadata): string {
  return JSON.stringify(m);
}

// ---------------------------------------------------------------- decoding

type Obj = Record<string, unknown>;

class Reader {
  constructor(
    private readonly label: string,
    private readonly path: string,
    readonly data: Obj,
  ) {}

  fail(key: string, what: string): never {
    throw new InvalidLabelError(this.label, `${this.path}${this.path ? '.' : ''}${key} ${what}`);
  }

  str(key: string, dflt?: string): string {
    const v = this.data[key];
    if (v === undefined || v === null) {
      if (dflt !== undefined) return dflt;
      return this.fail(key, 'is missing');
    }
    if (typeof v !== 'string') return this.fail(key, 'must be a string');
    return v;
  }

  bool(key: string): boolean {
    const v = this.data[key];
    if (v === undefined || v === null) return false;
    if (typeof v !== 'boolean') return this.fail(key, 'must be a boolean');
    return v;
  }

  strArray(key: string): string[] {
    const v = this.data[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return this.fail(key, 'must be an array of strings');
    return v as string[];
  }

  obj(key: string): Reader | undefined {
    const v = this.data[key];
    if (v === undefined || v === null) return undefined;
    if (!isObj(v)) return this.fail(key, 'must be an object');
    return new Reader(this.label, this.path ? `${this.path}.${key}` : key, v);
  }

  free(key: string): Record<string, unknown> {
    return this.obj(key)?.data ?? {};
  }

  objArray(key: string): Reader[] {
    const v = this.data[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return this.fail(key, 'must be an array');
    return v.map((item: unknown, i) => {
      if (!isObj(item)) return this.fail(`${key}[${i}]`, 'must be an object');
      return new Reader(this.label, `${this.path ? `${this.path}.` : ''}${key}[${i}]`, item);
    });
  }
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function parseJsonObject(label: string, text: string): Reader {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new InvalidLabelError(label, `not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isObj(v)) throw new InvalidLabelError(label, 'must be a JSON object');
  return new Reader(label, '', v);
}

function readSha(r: Reader | undefined): LayerSha {
  return { sha: r?.str('sha', '') ?? '' };
}

export function decodeLifecycleMetadata(text: string): LifecycleMetadata {
  const r = parseJsonObject(LIFECYCLE_METADATA_LABEL, text);
  const sbom = r.obj('sbom');
  const run = r.obj('runImage');
  const stackRun = r.obj('stack')?.obj('runImage');
  return {
    app: r.objArray('app').map(readSha),
    ...(sbom !== undefined ? { sbom: readSha(sbom) } : {}),
    config: readSha(r.obj('config')),
    launcher: readSha(r.obj('launcher')),
    processTypes: readSha(r.obj('process-types')),
    buildpacks: r.objArray('buildpacks').map((bp) => {
      const layers: Record<string, LayerLabel> = {};
      const lr = bp.obj('layers');
      for (const name of Object.keys(lr?.data ?? {})) {
        const l = lr?.obj(name);
        if (l === undefined) continue;
        layers[name] = { sha: l.str('sha', ''), data: l.free('data'), build: l.bool('build'), launch: l.bool('launch'), cache: l.bool('cache') };
      }
      const store = bp.obj('store');
      return { key: bp.str('key'), version: bp.str('version', ''), layers, ...(store !== undefined ? { store: { metadata: store.free('metadata') } } : {}) };
    }),
    runImage: {
      topLayer: run?.str('topLayer', '') ?? '',
      reference: run?.str('reference', '') ?? '',
      image: run?.str('image', '') ?? '',
      mirrors: run?.strArray('mirrors') ?? [],
    },
    stack: { runImage: { image: stackRun?.str('image', '') ?? '', mirrors: stackRun?.strArray('mirrors') ?? [] } },
  };
}

function readModule(m: Reader): ModuleLabel {
  const homepage = m.str('homepage', '');
  const api = m.str('api', '');
  return { id: m.str('id'), version: m.str('version', ''), ...(homepage !== '' ? { homepage } : {}), ...(api !== '' ? { api } : {}) };
}

export function decodeBuildMetadata(text: string): BuildMetadata {
  const r = parseJsonObject(BUILD_METADATA_LABEL, text);
  const launcher = r.obj('launcher');
  const git = launcher?.obj('source')?.obj('git');
  const dflt = r.str('buildpack-default-process-type', '');
  return {
    buildpacks: r.objArray('buildpacks').map(readModule),
    extensions: r.objArray('extensions').map(readModule),
    processes: r.objArray('processes').map((p) => {
      // Platform < 0.10 images carry `command` as one string (platform.md, "Labels").
      const rawCommand = p.data.command;
      const command = typeof rawCommand === 'string' ? [rawCommand] : p.strArray('command');
      const workingDir = p.str('working-dir', '');
      const execEnv = p.strArray('exec-env');
      return {
        type: p.str('type'),
        command,
        args: p.strArray('args'),
        direct: p.bool('direct'),
        buildpackId: p.str('buildpackID', ''),
        ...(workingDir !== '' ? { workingDir } : {}),
        ...(execEnv.length > 0 ? { execEnv } : {}),
      };
    }),
    ...(dflt !== '' ? { defaultProcessType: dflt } : {}),
    launcher: {
      version: launcher?.str('version', '') ?? '',
      source: { git: { repository: git?.str('repository', '') ?? '', commit: git?.str('commit', '') ?? '' } },
    },
  };
}

export function decodeProjectMetadata(text: string): ProjectMetadata {
  return parseJsonObject(PROJECT_METADATA_LABEL, text).data;
}
