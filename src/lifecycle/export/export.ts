/**
 * The export phase (platform.md, "`exporter`"): launch layers, SBOM and app dir stream out of the volumes through
 * reproducible tars (LayerReheader) into temp files, the launcher/config/process-type layers are
 * generated, and the image is loaded into the daemon as an archive that carries only the layers it
 * does not have yet. Big launch layers are committed by the daemon instead (export/transport.ts decides,
 * export/commit.ts does it); when the run image cannot host their copy, they go through temp files too.
 * The decisions are in export/plan.ts and export/transport.ts (pure); this file only moves bytes.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ExitCode, KilnError, toKilnError } from '../../errors.js';
import { reheadToFile } from '../../image/layer-reheader.js';
import { layerFromFiles, normaliseTarStream, writeLayerTar, type LayerEntry, type ParentDir, type TarStreamOptions } from '../../image/layer-tar.js';
import type { TarFileEntry } from '../../image/tar-files.js';
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
  type ImagePlan,
  type LaunchLayerRef,
} from './plan.js';
import { planSlices, type AppEntry } from './slices.js';
import type { ExportInput, ExportResult } from './types.js';
import { loadExportImage, type LayerFile } from './load.js';
import { CommitFailed, commitLayers, type Committed } from './commit.js';
import { placeholderOf, transportOf, type CommitLayer } from './transport.js';
import { APP_DIR, escapeId, LAYERS_DIR, type PhaseContext } from '../phase-context.js';
import { isMissingPath, readFromVolume } from '../container/volume-io.js';
import { makeKilnTempDir } from '../../kiln-temp-dir.js';

export type { ExportInput, ExportResult } from './types.js';

/** Temp files for the layers this export wrote, by diffID. */
type Files = Map<string, LayerFile>;

async function tarInto(dir: string, name: string, entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>, files: Files): Promise<string> {
  const path = join(dir, `${name}.tar`);
  const { diffId, size } = await writeLayerTar(entries, path);
  if (!files.has(diffId)) files.set(diffId, { path, size });
  return diffId;
}

/** A container archive re-headered into a temp file (byte-identical to normaliseTarStream + writeLayerTar). */
async function reheadInto(dir: string, name: string, source: Readable, opts: TarStreamOptions, files: Files): Promise<string> {
  const path = join(dir, `${name}.tar`);
  const { diffId, size } = await reheadToFile(source, opts, path);
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
 * Parents of a layer dir are included with a fixed owner and mode (platform.md, "Build Reproducibility" says "real" ones: ours
 * are the ones the build set up, /layers and /layers/<bp> owned by the CNB user, 0755).
 */
function layerParents(input: ExportInput, ...paths: string[]): ParentDir[] {
  return paths.map((path) => ({ path, uid: input.user.uid, gid: input.user.gid, mode: 0o755 }));
}

function launchPlacement(input: ExportInput, ref: LaunchLayerRef): TarStreamOptions {
  const bpDir = `${LAYERS_DIR}/${escapeId(ref.buildpackId)}`;
  return { prefix: `${bpDir}/${ref.name}`, uid: input.user.uid, gid: input.user.gid, parents: layerParents(input, LAYERS_DIR, bpDir) };
}

/** The launch layer's tar in a temp file; undefined when its dir is absent. */
async function tarLaunchLayer(ctx: PhaseContext, input: ExportInput, ref: LaunchLayerRef, dir: string, name: string, files: Files): Promise<string | undefined> {
  const source = await readOptional(ctx, input.volumes.layers, input.helperImage, ref.volumePath);
  return source === undefined ? undefined : reheadInto(dir, name, source, launchPlacement(input, ref), files);
}

/** A changed launch layer the daemon commits (export/transport.ts), or undefined for a temp file. */
function commitPlan(ctx: PhaseContext, input: ExportInput, ref: LaunchLayerRef): CommitLayer | undefined {
  const bytes = input.layerBytes?.[ref.volumePath];
  if (transportOf(bytes) !== 'commit') return undefined;
  ctx.reporter.emit({ type: 'debug', message: `layer ${ref.volumePath}: ${bytes} bytes, committed by the daemon` });
  return { volumePath: ref.volumePath, placement: launchPlacement(input, ref), placeholder: placeholderOf(ref.volumePath) };
}

interface LaunchLayers {
  built: BuiltLayers['buildpackLayers'];
  /** Layers to commit, by index in `built` (whose diffId is the placeholder until then). */
  big: Map<number, CommitLayer>;
}

async function buildpackLayers(ctx: PhaseContext, input: ExportInput, dir: string, files: Files): Promise<LaunchLayers> {
  const built: BuiltLayers['buildpackLayers'] = [];
  const big = new Map<number, CommitLayer>();
  for (const ref of launchLayers(input)) {
    const same = input.unchanged?.[ref.volumePath];
    if (same !== undefined) {
      // Unchanged content: neither tarred nor sent (the archive skips it or takes it from the previous image).
      ctx.reporter.emit({ type: 'layer', decision: 'reused', layer: `${ref.buildpackId}:${ref.name}` });
      built.push({ buildpackId: ref.buildpackId, name: ref.name, diffId: same });
      continue;
    }
    const candidate = commitPlan(ctx, input, ref);
    if (candidate !== undefined) {
      // Its layer event comes once its diffID is known (after the commit).
      big.set(built.length, candidate);
      built.push({ buildpackId: ref.buildpackId, name: ref.name, diffId: candidate.placeholder });
      continue;
    }
    const diffId = launchDecision(ctx, input, ref, await tarLaunchLayer(ctx, input, ref, dir, `bp-${built.length}`, files));
    built.push({ buildpackId: ref.buildpackId, name: ref.name, diffId });
  }
  return { built, big };
}

/** buildpack.md, "Phase #6: Export" for one launch layer: its diffID, with the `layer` event. */
function launchDecision(ctx: PhaseContext, input: ExportInput, ref: LaunchLayerRef, tarred: string | undefined): string {
  const decision = decideLaunchLayer(ref, tarred, input.previous);
  ctx.reporter.emit({ type: 'layer', decision: decision.kind, layer: `${ref.buildpackId}:${ref.name}` });
  return decision.diffId;
}

/** The paths of the app volume (relative to <app>), for slicing. */
async function appEntries(ctx: PhaseContext, input: ExportInput): Promise<AppEntry[]> {
  const out: AppEntry[] = [];
  const source = await readFromVolume(ctx, { volume: input.volumes.app, image: input.helperImage, path: '/' });
  const appDir = input.appDir ?? APP_DIR;
  const root = `${appDir.slice(1)}/`; // entries are 'workspace/x' (layer-tar.ts names)
  // normaliseTarStream drains each entry's content itself once we ask for the next one.
  for await (const e of normaliseTarStream(source, { prefix: appDir, uid: 0, gid: 0 })) {
    if (e.path.startsWith(root)) out.push({ path: e.path.slice(root.length), isDir: e.type === 'directory' });
  }
  return out;
}

async function appLayers(ctx: PhaseContext, input: ExportInput, dir: string, files: Files): Promise<string[]> {
  const placement = { prefix: input.appDir ?? APP_DIR, uid: input.user.uid, gid: input.user.gid };
  const tarApp = async (name: string, exclude?: (rel: string) => boolean): Promise<string> => {
    const source = await readFromVolume(ctx, { volume: input.volumes.app, image: input.helperImage, path: '/' });
    return reheadInto(dir, name, source, { ...placement, ...(exclude !== undefined ? { exclude } : {}) }, files);
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
 * Loads the image: the big launch layers committed first (export/transport.ts), or, when the run image
 * cannot host their copy (CommitFailed), written to temp files like every other layer.
 */
async function load(ctx: PhaseContext, input: ExportInput, o: { bp: LaunchLayers; built: BuiltLayers; files: Files; dir: string }): Promise<{ plan: ImagePlan; imageId: string }> {
  const base = input.runImage.extended?.info ?? input.runImage.info;
  const previous = input.previousImageId !== undefined ? { previousImageId: input.previousImageId } : {};
  const withIds = (ids: ReadonlyMap<string, string>): BuiltLayers => ({ ...o.built, buildpackLayers: o.built.buildpackLayers.map((l) => ({ ...l, diffId: ids.get(l.diffId) ?? l.diffId })) });
  const planFor = (ids: ReadonlyMap<string, string>): ImagePlan => planImage(input, withIds(ids));
  const refs = launchLayers(input).filter((r) => input.unchanged?.[r.volumePath] === undefined);
  const refOf = (s: CommitLayer): LaunchLayerRef => refs.find((r) => r.volumePath === s.volumePath) as LaunchLayerRef;
  const big = [...o.bp.big.values()];
  const committed =
    big.length === 0
      ? undefined
      : await commitLayers(ctx, { layersVolume: input.volumes.layers, base, layers: big, planFor, files: o.files, dir: o.dir, ...previous }).catch((e: unknown): Committed | undefined => {
          if (!(e instanceof CommitFailed)) throw e;
          ctx.reporter.emit({ type: 'debug', message: `${e.message}; writing the layers to temp files instead` });
          return undefined;
        });
  const ids = new Map<string, string>();
  for (const [i, s] of o.bp.big) {
    const ref = refOf(s);
    const diffId = committed !== undefined ? committed.diffIds.get(s.placeholder) : await tarLaunchLayer(ctx, input, ref, o.dir, `bp-${i}`, o.files);
    ids.set(s.placeholder, launchDecision(ctx, input, ref, diffId));
  }
  const plan = planFor(ids);
  const knownChains = committed !== undefined ? { knownChains: committed.chains } : {};
  return { plan, imageId: await loadExportImage(ctx, { plan, base, files: o.files, tags: input.tags, dir: o.dir, ...knownChains, ...previous }) };
}

/**
 * Exports the app image into the daemon and tags it with every tag of input.tags. Errors are
 * KilnErrors with exit code 62. Temp files are removed in every case. Phase start/end events are the
 * caller's (it times the phase); this emits a `layer` event per launch layer and warnings.
 */
export async function exportImage(ctx: PhaseContext, input: ExportInput): Promise<ExportResult> {
  if (input.tags.length === 0) throw new KilnError({ action: 'export the app image', cause: 'no image name given', exitCode: ExitCode.exportFailed });
  // Fail on process-type problems (platform.md, "`exporter` Inputs") before any layer is tarred.
  checkProcessTypes(input);
  const entry = selectEntrypoint(input);
  if (entry.warning !== undefined) ctx.reporter.emit({ type: 'warning', message: entry.warning });
  const dir = await makeKilnTempDir('export');
  try {
    const files: Files = new Map();
    const bp = await buildpackLayers(ctx, input, dir, files);
    const sbomSource = await readOptional(ctx, input.volumes.layers, input.helperImage, 'sbom/launch');
    const sbom =
      sbomSource === undefined
        ? undefined
        : await reheadInto(dir, 'sbom', sbomSource, { prefix: `${LAYERS_DIR}/sbom/launch`, uid: input.user.uid, gid: input.user.gid, parents: layerParents(input, LAYERS_DIR, `${LAYERS_DIR}/sbom`) }, files);
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
    const { plan, imageId } = await load(ctx, input, { bp, built, files, dir });
    return { imageId, tags: [...input.tags], layers: [...plan.baseLayers, ...plan.layers.map((l) => l.diffId)], labels: plan.config.labels };
  } catch (e) {
    throw toKilnError(e, 'export the app image', ExitCode.exportFailed);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
