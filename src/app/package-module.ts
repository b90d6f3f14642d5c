/**
 * `kiln buildpack package` / `kiln extension package` (distribution.md, "Buildpackage"): one module directory becomes a
 * package — an image (loaded into the daemon) or a file — holding one layer
 * `/cnb/{buildpacks,extensions}/<escaped-id>/<version>/…` with the Distribution API labels
 * io.buildpacks.{buildpack,extension}.layers and io.buildpacks.buildpackage.metadata (pack's name).
 * The file is an OCI image layout tar (oci-layout, index.json, blobs/sha256/…, uncompressed layer), the
 * `.cnb` format of distribution.md, "Buildpackage"; module-source.ts reads both kinds of package back for builder.toml uris.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILDPACK_LAYERS_LABEL, EXTENSION_LAYERS_LABEL, type ModuleLayerJson } from '../builder/builder-labels.js';
import { CNB_DIR, escapeId } from '../cnb/paths.js';
import { ExitCode, KilnError } from '../errors.js';
import { digestHex, sha256Hex } from '../image/digest.js';
import { imageArchiveStream, planImageArchive } from '../image/image-archive.js';
import { withDefaultTag } from '../image/image-ref.js';
import { layerFromDir, writeLayerTar, type LayerEntry } from '../image/layer-tar.js';
import { makeTar } from '../image/tar-files.js';
import type { ContainerEngine, Labels } from '../ports.js';
import type { ModuleKind } from '../cnb/models.js';
import { parseToml } from '../cnb/toml.js';
import { makeKilnTempDir } from '../kiln-temp-dir.js';

import { PACKAGE_METADATA_LABEL } from '../cnb/labels.js';

export { PACKAGE_METADATA_LABEL };

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
  const base = `${CNB_DIR}/${kind}s/${escapeId(m.id)}`;
  const parents = [CNB_DIR, `${CNB_DIR}/${kind}s`, base].map((path) => ({ path, ...root }));
  for await (const e of layerFromDir(dir, { prefix: `${base}/${m.version}`, uid: 0, gid: 0, parents, modes: 'world-readable', rootMode: 0o755 })) {
    if (e.type === 'symlink') yield { ...e, uid: 0, gid: 0 };
    else yield { ...e, uid: 0, gid: 0, mode: e.type === 'directory' || (e.mode & 0o111) !== 0 ? 0o755 : 0o644 };
  }
}

const blob = (digest: string): string => `blobs/sha256/${digestHex(digest)}`;

/** An OCI image layout (image-spec v1.0) tar of a one-layer image, layer stored uncompressed. */
export async function ociLayoutTar(configJson: Buffer, configDigest: string, layer: { diffId: string; content: Buffer }): Promise<Buffer> {
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: configJson.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.diffId, size: layer.content.length }],
    }),
  );
  const manifestDigest = `sha256:${sha256Hex(manifest)}`;
  const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length }] };
  return makeTar([
    { path: 'oci-layout', content: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    { path: 'index.json', content: JSON.stringify(index) },
    { path: 'blobs', type: 'directory' },
    { path: 'blobs/sha256', type: 'directory' },
    { path: blob(layer.diffId), content: layer.content },
    { path: blob(configDigest), content: configJson },
    { path: blob(manifestDigest), content: manifest },
  ]);
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
  const tmp = await makeKilnTempDir('package');
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
      const plan = planImageArchive({ ...opts, tags: [] });
      await writeFile(req.target, await ociLayoutTar(plan.configJson, plan.imageId, { diffId, content: await readFile(tarPath) }));
      return { imageId: plan.imageId, id: m.id, version: m.version, target: req.target };
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
