/**
 * The export phase (digest 8): launch layers, SBOM and app dir stream out of the volumes through
 * reproducible tars into temp files, the launcher/config/process-type layers are generated, and the
 * image is loaded into the daemon as an archive that carries only the layers it does not have yet.
 * The decisions are in export-plan.ts (pure); this file only moves bytes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ExitCode, KilnError, toKilnError } from '../errors.js';
import { layerFromFiles, normaliseTarStream, writeLayerTar, type LayerEntry, type ParentDir } from '../image/layer-tar.js';
import type { TarFileEntry } from '../image/tar-files.js';
import {
  checkProcessTypes,
  configLayerEntries,
  decideLaunchLayer,
  launcherLayerEntries,
  launchLayers,
  planImage,
  processTypesLayerEntries,
  selectEntrypoint,
  type BuiltLayers,
} from './export-plan.js';
import { planSlices, type AppEntry } from './export-slices.js';
import type { ExportInput, ExportResult } from './export-types.js';
import { loadExportImage, type LayerFile } from './export-load.js';
import { APP_DIR, escapeId, LAYERS_DIR, type PhaseContext } from './phase-context.js';
import { isMissingPath, readFromVolume } from './volume-io.js';

export type { ExportInput, ExportResult } from './export-types.js';

/** Temp files for the layers this export wrote, by diffID. */
type Files = Map<string, LayerFile>;

async function tarInto(dir: string, name: string, entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>, files: Files): Promise<string> {
  const path = join(dir, `${name}.tar`);
  const { diffId, size } = await writeLayerTar(entries, path);
  if (!files.has(diffId)) files.set(diffId, { path, size });
  return diffId;
}

/** A path of the volume as a stream, or undefined when it does not exist. */
async function readOptional(ctx: PhaseContext, volume: string, image: string, path: string): Promise<Readable | undefined> {
  try {
    return await readFromVolume(ctx, { volume, image, path });
  } catch (e) {
    if (isMissingPath(e)) return undefined;
    throw e;
  }
}

function generated(dir: string, name: string, entries: TarFileEntry[], files: Files): Promise<string> {
  return tarInto(dir, name, layerFromFiles(entries), files);
}

/**
 * Parents of a layer dir are included with a fixed owner and mode (digest 8.3 says "real" ones: ours
 * are the ones the build set up, /layers and /layers/<bp> owned by the CNB user, 0755).
 */
function layerParents(input: ExportInput, ...paths: string[]): ParentDir[] {
  return paths.map((path) => ({ path, uid: input.user.uid, gid: input.user.gid, mode: 0o755 }));
}

async function buildpackLayers(ctx: PhaseContext, input: ExportInput, dir: string, files: Files): Promise<{ built: BuiltLayers['buildpackLayers']; fromPrevious: string[] }> {
  const built: BuiltLayers['buildpackLayers'] = [];
  const fromPrevious: string[] = [];
  let n = 0;
  for (const ref of launchLayers(input)) {
    const bpDir = `${LAYERS_DIR}/${escapeId(ref.buildpackId)}`;
    const same = input.unchanged?.[ref.volumePath];
    if (same !== undefined) {
      // Unchanged content: neither tarred nor sent (the archive skips it or takes it from the previous image).
      fromPrevious.push(same);
      ctx.reporter.emit({ type: 'layer', decision: 'reused', layer: `${ref.buildpackId}:${ref.name}` });
      built.push({ buildpackId: ref.buildpackId, name: ref.name, diffId: same });
      continue;
    }
    const source = await readOptional(ctx, input.volumes.layers, input.helperImage, ref.volumePath);
    let tarred: string | undefined;
    if (source !== undefined) {
      tarred = await tarInto(
        dir,
        `bp-${n++}`,
        normaliseTarStream(source, { prefix: `${bpDir}/${ref.name}`, uid: input.user.uid, gid: input.user.gid, parents: layerParents(input, LAYERS_DIR, bpDir) }),
        files,
      );
    }
    const decision = decideLaunchLayer(ref, tarred, input.previous);
    if (decision.fromPrevious) fromPrevious.push(decision.diffId);
    ctx.reporter.emit({ type: 'layer', decision: decision.kind, layer: `${ref.buildpackId}:${ref.name}` });
    built.push({ buildpackId: ref.buildpackId, name: ref.name, diffId: decision.diffId });
  }
  return { built, fromPrevious };
}

/** The paths of the app volume (relative to <app>), for slicing. */
async function appEntries(ctx: PhaseContext, input: ExportInput): Promise<AppEntry[]> {
  const out: AppEntry[] = [];
  const source = await readFromVolume(ctx, { volume: input.volumes.app, image: input.helperImage, path: '/' });
  const root = `${APP_DIR.slice(1)}/`; // entries are 'workspace/x' (layer-tar.ts names)
  // normaliseTarStream drains each entry's content itself once we ask for the next one.
  for await (const e of normaliseTarStream(source, { prefix: APP_DIR, uid: 0, gid: 0 })) {
    if (e.path.startsWith(root)) out.push({ path: e.path.slice(root.length), isDir: e.type === 'directory' });
  }
  return out;
}

async function appLayers(ctx: PhaseContext, input: ExportInput, dir: string, files: Files): Promise<string[]> {
  const placement = { prefix: APP_DIR, uid: input.user.uid, gid: input.user.gid };
  const tarApp = async (name: string, exclude?: (rel: string) => boolean): Promise<string> => {
    const source = await readFromVolume(ctx, { volume: input.volumes.app, image: input.helperImage, path: '/' });
    return tarInto(dir, name, normaliseTarStream(source, { ...placement, ...(exclude !== undefined ? { exclude } : {}) }), files);
  };
  const same = input.unchanged?.app;
  if (input.slices.length === 0) return [same ?? (await tarApp('app'))];
  const plan = planSlices(input.slices, await appEntries(ctx, input));
  const out: string[] = [];
  for (const [i, exclude] of plan.sliceExcludes.entries()) out.push(await tarApp(`slice-${i}`, exclude));
  out.push(await tarApp('app', plan.finalExclude));
  return out;
}

/**
 * Exports the app image into the daemon and tags it with every tag of input.tags. Errors are
 * KilnErrors with exit code 62. Temp files are removed in every case. Phase start/end events are the
 * caller's (it times the phase); this emits a `layer` event per launch layer and warnings.
 */
export async function exportImage(ctx: PhaseContext, input: ExportInput): Promise<ExportResult> {
  if (input.tags.length === 0) throw new KilnError({ action: 'export the app image', cause: 'no image name given', exitCode: ExitCode.exportFailed });
  // Fail on process-type problems (edges 52, 54) before any layer is tarred.
  checkProcessTypes(input);
  const entry = selectEntrypoint(input);
  if (entry.warning !== undefined) ctx.reporter.emit({ type: 'warning', message: entry.warning });
  const dir = await mkdtemp(join(tmpdir(), 'kiln-export-'));
  try {
    const files: Files = new Map();
    const bp = await buildpackLayers(ctx, input, dir, files);
    const sbomSource = await readOptional(ctx, input.volumes.layers, input.helperImage, 'sbom/launch');
    const sbom =
      sbomSource === undefined
        ? undefined
        : await tarInto(dir, 'sbom', normaliseTarStream(sbomSource, { prefix: `${LAYERS_DIR}/sbom/launch`, uid: input.user.uid, gid: input.user.gid, parents: layerParents(input, LAYERS_DIR, `${LAYERS_DIR}/sbom`) }), files);
    const app = await appLayers(ctx, input, dir, files);
    const launcher = await generated(dir, 'launcher', launcherLayerEntries(), files);
    const config = await generated(dir, 'config', configLayerEntries(input), files);
    const ptEntries = processTypesLayerEntries(input);
    const processTypes = ptEntries === undefined ? undefined : await generated(dir, 'process-types', ptEntries, files);
    const built: BuiltLayers = {
      buildpackLayers: bp.built,
      ...(sbom !== undefined ? { sbom } : {}),
      app,
      launcher,
      config,
      ...(processTypes !== undefined ? { processTypes } : {}),
    };
    const plan = planImage(input, built);
    const imageId = await loadExportImage(ctx, { plan, base: input.runImage.extended?.info ?? input.runImage.info, files, tags: input.tags, dir, ...(input.previousImageId !== undefined ? { previousImageId: input.previousImageId } : {}) });
    return { imageId, tags: [...input.tags], layers: [...plan.baseLayers, ...plan.layers.map((l) => l.diffId)], labels: plan.config.labels };
  } catch (e) {
    throw toKilnError(e, 'export the app image', ExitCode.exportFailed);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
