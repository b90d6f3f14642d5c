/**
 * `kiln buildpack package` / `kiln extension package` (digest 12.2): one module directory becomes a
 * package — an image (loaded into the daemon) or a file — holding one layer
 * `/cnb/{buildpacks,extensions}/<escaped-id>/<version>/…` with the Distribution API labels
 * io.buildpacks.{buildpack,extension}.layers and io.buildpacks.buildpackage.metadata (pack's name).
 * The file is a docker-save archive (what `docker load` reads), not an OCI layout; module-source.ts
 * reads both kinds of package back for builder.toml uris.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILDPACK_LAYERS_LABEL, EXTENSION_LAYERS_LABEL, type ModuleLayerJson } from '../builder/builder-labels.js';
import { escapeModuleId } from '../builder/builder-plan.js';
import { ExitCode, KilnError } from '../errors.js';
import { imageArchiveStream, writeImageArchive } from '../image/image-archive.js';
import { withDefaultTag } from '../image/image-ref.js';
import { layerFromDir, writeLayerTar, type LayerEntry } from '../image/layer-tar.js';
import type { ContainerEngine, Labels } from '../ports.js';
import type { ModuleKind } from '../spec/models.js';
import { parseToml } from '../spec/toml.js';

export const PACKAGE_METADATA_LABEL = 'io.buildpacks.buildpackage.metadata';

export interface PackageRequest {
  kind: ModuleKind;
  /** Directory holding buildpack.toml / extension.toml. */
  dir: string;
  /** Image name to load into the daemon, or (with `file`) the path of the package file. */
  target: string;
  file?: boolean;
  labels?: Labels;
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

/** The package's labels (pure): the layers label and pack's buildpackage metadata. */
export function packageLabels(kind: ModuleKind, m: ModuleIdentity, diffId: string): Labels {
  const layer: ModuleLayerJson = { api: m.api, layerDiffID: diffId, ...(m.homepage !== undefined ? { homepage: m.homepage } : {}), ...(m.name !== undefined ? { name: m.name } : {}) };
  return {
    [kind === 'buildpack' ? BUILDPACK_LAYERS_LABEL : EXTENSION_LAYERS_LABEL]: JSON.stringify({ [m.id]: { [m.version]: layer } }),
    [PACKAGE_METADATA_LABEL]: JSON.stringify({ id: m.id, version: m.version, ...(m.name !== undefined ? { name: m.name } : {}), ...(m.homepage !== undefined ? { homepage: m.homepage } : {}) }),
  };
}

async function* moduleEntries(kind: ModuleKind, m: ModuleIdentity, dir: string): AsyncIterable<LayerEntry> {
  const root = { uid: 0, gid: 0, mode: 0o755 };
  const base = `/cnb/${kind}s/${escapeModuleId(m.id)}`;
  const parents = ['/cnb', `/cnb/${kind}s`, base].map((path) => ({ path, ...root }));
  for await (const e of layerFromDir(dir, { prefix: `${base}/${m.version}`, uid: 0, gid: 0, parents, modes: 'world-readable', rootMode: 0o755 })) {
    if (e.type === 'symlink') yield { ...e, uid: 0, gid: 0 };
    else yield { ...e, uid: 0, gid: 0, mode: e.type === 'directory' || (e.mode & 0o111) !== 0 ? 0o755 : 0o644 };
  }
}

export async function packageModule(engine: ContainerEngine, req: PackageRequest): Promise<{ imageId: string; id: string; version: string; target: string }> {
  const file = join(req.dir, `${req.kind}.toml`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new KilnError({ action: `package ${req.dir}`, cause: `cannot read ${file}: ${(e as Error).message}`, exitCode: ExitCode.config, original: e });
  }
  const m = moduleIdentity(req.kind, text, file);
  const tmp = await mkdtemp(join(tmpdir(), 'kiln-package-'));
  try {
    const tarPath = join(tmp, 'module.tar');
    const { diffId } = await writeLayerTar(moduleEntries(req.kind, m, req.dir), tarPath);
    const config = { env: [], user: '', workingDir: '/', entrypoint: null, cmd: null, labels: { ...packageLabels(req.kind, m, diffId), ...(req.labels ?? {}) } };
    const opts = {
      base: { layers: [], os: 'linux', architecture: 'amd64' },
      layers: [{ diffId, tarPath, history: { created_by: `kiln ${req.kind} package: ${m.id}@${m.version}` } }],
      config,
      created: '1980-01-01T00:00:01Z',
    };
    if (req.file === true) {
      const { imageId } = await writeImageArchive({ ...opts, tags: [], dest: req.target });
      return { imageId, id: m.id, version: m.version, target: req.target };
    }
    const target = withDefaultTag(req.target);
    const { imageId, stream } = await imageArchiveStream({ ...opts, tags: [target] });
    await engine.loadImage(stream);
    if ((await engine.inspectImage(target))?.id !== imageId) await engine.tagImage(imageId, target);
    return { imageId, id: m.id, version: m.version, target };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
