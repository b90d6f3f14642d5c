/**
 * `kiln buildpack package` / `kiln extension package` (distribution.md, "Buildpackage"): a module — a
 * directory (--path), or package.toml's `[buildpack] uri` with its `[[dependencies]]` — becomes a package:
 * an image (loaded into the daemon) or a `.cnb` file (an OCI image layout, image/oci-layout.ts). Every
 * module of the package is one layer `/cnb/{buildpacks,extensions}/<escaped-id>/<version>/…`, all listed in
 * io.buildpacks.{buildpack,extension}.layers; io.buildpacks.buildpackage.metadata names the package's own
 * module (pack's labels). Uris are read by builder/module-source.ts (directories, tarballs, .cnb files,
 * docker:// images pulled under the pull policy); errors name package.toml and the entry.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { BUILDPACK_LAYERS_LABEL, EXTENSION_LAYERS_LABEL, moduleLayersJson, PACKAGE_METADATA_LABEL, type ModuleLayerJson, type ModuleLayersJson } from '../builder/builder-labels.js';
import { moduleEntries } from '../builder/builder-layers.js';
import { readModuleSources, type ModuleSource, type ModuleUriOptions } from '../builder/module-source.js';
import { planPackage, type PackagePlan } from '../builder/package-plan.js';
import { ExitCode, KilnError } from '../errors.js';
import { imageArchiveStream, planImageArchive } from '../image/image-archive.js';
import { withDefaultTag } from '../image/image-ref.js';
import { writeLayerTar } from '../image/layer-tar.js';
import { ociLayoutTar } from '../image/oci-layout.js';
import type { ContainerEngine, Labels, Reporter } from '../ports.js';
import type { ModuleKind } from '../cnb/models.js';
import { parsePackageConfig } from '../cnb/package-config.js';
import { formatIssue, SpecError, throwOnErrors } from '../cnb/spec-error.js';
import { parseToml } from '../cnb/toml.js';
import type { ImageFetcher } from './image-fetcher.js';
import { makeKilnTempDir } from '../kiln-temp-dir.js';

export { PACKAGE_METADATA_LABEL };

/** The OS/architecture written into the package image's config (`--target`, pack's format). */
export interface PackageTarget {
  os: string;
  arch: string;
  variant?: string;
}

export interface PackageRequest {
  kind: ModuleKind;
  /** Directory holding buildpack.toml / extension.toml (without `config`; default "."). */
  dir?: string;
  /** package.toml: the module's uri and its [[dependencies]] (relative uris are relative to its directory). */
  config?: string;
  /** Image name to load into the daemon, or (with `file`) the path of the package file. */
  target: string;
  file?: boolean;
  labels?: Labels;
  /** Pulls docker:// uris under the pull policy; without it they must be in the daemon. */
  fetcher?: ImageFetcher;
  /** Default linux/amd64. */
  platform?: PackageTarget;
  reporter?: Reporter;
}

export interface PackageResult {
  imageId: string;
  id: string;
  version: string;
  target: string;
  /** Every module of the package as id@version, sorted. */
  modules: string[];
  warnings: string[];
}

export interface ModuleIdentity {
  id: string;
  version: string;
  api: string;
  name?: string;
  homepage?: string;
}

/** id, version, api (and name/homepage) of a descriptor's text (pure). */
export function moduleIdentity(kind: ModuleKind, text: string, file: string): ModuleIdentity {
  const parsed = parseToml(text, file);
  const table = parsed.value?.[kind];
  const api = parsed.value?.api;
  if (typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw new KilnError({ action: `package ${file}`, cause: `no [${kind}] table`, exitCode: ExitCode.config, subject: file });
  }
  const t = table as Record<string, unknown>;
  if (typeof t.id !== 'string' || typeof t.version !== 'string' || typeof api !== 'string') {
    throw new KilnError({ action: `package ${file}`, cause: `api, ${kind}.id and ${kind}.version must be strings`, exitCode: ExitCode.config, subject: file });
  }
  return { id: t.id, version: t.version, api, ...(typeof t.name === 'string' ? { name: t.name } : {}), ...(typeof t.homepage === 'string' ? { homepage: t.homepage } : {}) };
}

/**
 * The package's labels (pure): the layers label (every module; a diffID alone means the main module's
 * single layer) and pack's buildpackage metadata naming the main module.
 */
export function packageLabels(kind: ModuleKind, m: ModuleIdentity, layers: string | ModuleLayersJson): Labels {
  const one: ModuleLayerJson = { api: m.api, layerDiffID: typeof layers === 'string' ? layers : '', ...(m.homepage !== undefined ? { homepage: m.homepage } : {}), ...(m.name !== undefined ? { name: m.name } : {}) };
  return {
    [kind === 'buildpack' ? BUILDPACK_LAYERS_LABEL : EXTENSION_LAYERS_LABEL]: JSON.stringify(typeof layers === 'string' ? { [m.id]: { [m.version]: one } } : layers),
    [PACKAGE_METADATA_LABEL]: JSON.stringify({ id: m.id, version: m.version, ...(m.name !== undefined ? { name: m.name } : {}), ...(m.homepage !== undefined ? { homepage: m.homepage } : {}) }),
  };
}

async function readConfigText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const cause = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : e instanceof Error ? e.message : String(e);
    throw new KilnError({ action: 'read package.toml', cause: `cannot read ${file}: ${cause}`, hint: 'pass the path of a package.toml with --config', exitCode: ExitCode.config, subject: file, original: e });
  }
}

/** Reads the uris of package.toml (or the --path directory) and plans the package. */
async function readAndPlan(engine: ContainerEngine, req: PackageRequest, tmp: string, warnings: string[]): Promise<PackagePlan> {
  const fetchImage = req.fetcher !== undefined ? (ref: string) => (req.fetcher as ImageFetcher).ensure(ref, `${req.kind} package`) : undefined;
  const common = { tmpRoot: tmp, engine, ...(fetchImage !== undefined ? { fetchImage } : {}) };
  const sources: ModuleSource[] = [];
  let configFile: string;
  let configText: string | undefined;
  if (req.config !== undefined) {
    configFile = resolve(req.config);
    configText = await readConfigText(configFile);
    const parsed = parsePackageConfig(configText, configFile, req.kind);
    const config = throwOnErrors(parsed, 'read package.toml', `fix the package.toml keys named above`);
    warnings.push(...parsed.issues.filter((i) => i.severity === 'warning').map(formatIssue));
    const opts: ModuleUriOptions = { ...common, configDir: dirname(configFile), configFile };
    sources.push(...(await readModuleSources(config.module, req.kind, 0, { ...opts, keyPath: req.kind })));
    for (const [i, dep] of config.dependencies.entries()) sources.push(...(await readModuleSources(dep, 'buildpack', i, { ...opts, keyPath: `dependencies[${i}]` })));
  } else {
    const dir = resolve(req.dir ?? '.');
    configFile = dir;
    sources.push(...(await readModuleSources({ id: '', version: '', uri: dir }, req.kind, 0, { ...common, configDir: dir, configFile: dir, keyPath: '--path' })));
  }
  const planned = planPackage({ kind: req.kind, configFile, ...(configText !== undefined ? { configText } : {}), sources });
  if (planned.plan === undefined) throw new SpecError(planned.issues, `package ${req.kind} ${req.target}${req.config !== undefined ? ` from ${configFile}` : ''}`, `fix ${configFile} or the modules it names`);
  return planned.plan;
}

export async function packageModule(engine: ContainerEngine, req: PackageRequest): Promise<PackageResult> {
  const warnings: string[] = [];
  const tmp = await makeKilnTempDir('package');
  try {
    const plan = await readAndPlan(engine, req, tmp, warnings);
    for (const w of warnings) req.reporter?.emit({ type: 'warning', message: w });
    const layers: { diffId: string; tarPath: string; history: { created_by: string } }[] = [];
    const diffIds = new Map<string, string>();
    for (const [i, m] of plan.modules.entries()) {
      const tarPath = join(tmp, `layer-${i}.tar`);
      const { diffId } = await writeLayerTar(moduleEntries(m), tarPath);
      diffIds.set(m.imageDir, diffId);
      layers.push({ diffId, tarPath, history: { created_by: `kiln ${req.kind} package: ${m.descriptor.id}@${m.descriptor.version}` } });
    }
    const d = plan.main.descriptor;
    const main: ModuleIdentity = { id: d.id, version: d.version, api: d.api, ...(d.name !== '' ? { name: d.name } : {}), ...(d.homepage !== '' ? { homepage: d.homepage } : {}) };
    const labels = { ...packageLabels(req.kind, main, moduleLayersJson(plan.modules, diffIds, { targets: false })), ...(req.labels ?? {}) };
    const platform = req.platform ?? { os: 'linux', arch: 'amd64' };
    const opts = {
      base: { layers: [], os: platform.os, architecture: platform.arch, ...(platform.variant !== undefined ? { variant: platform.variant } : {}) },
      layers,
      config: { env: [], user: '', workingDir: '/', entrypoint: null, cmd: null, labels },
      created: '1980-01-01T00:00:01Z',
    };
    const modules = plan.modules.map((m) => `${m.descriptor.id}@${m.descriptor.version}`);
    if (req.file === true) {
      const archive = planImageArchive({ ...opts, tags: [] });
      await writeFile(req.target, await ociLayoutTar(archive.configJson, archive.imageId, layers));
      return { imageId: archive.imageId, id: d.id, version: d.version, target: req.target, modules, warnings };
    }
    const target = withDefaultTag(req.target);
    const { imageId, stream } = await imageArchiveStream({ ...opts, tags: [target] });
    await engine.loadImage(stream);
    if ((await engine.inspectImage(target))?.id !== imageId) await engine.tagImage(imageId, target);
    return { imageId, id: d.id, version: d.version, target, modules, warnings };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
