/**
 * The cache around one build (issue 5; platform.md, "Caching", "`analyzer` and `restorer`"): open the cache volume, fingerprint the dirs
 * export would tar, tell export which are unchanged, and save this build's cache=true layers and the
 * fingerprint -> diffID map afterwards. Cache failures after export only warn (platform.md, "Caching").
 */
import { decodeLifecycleMetadata, LIFECYCLE_METADATA_LABEL } from '../../image/lifecycle-labels.js';
import type { LayerMetadataFile } from '../../cnb/models.js';
import { emptyCacheMetadata, ensureCacheVolume, readCacheMetadata, runCacheScript, saveScript, writeCacheMetadata, type CachedLayer, type CacheMetadata, type SaveLayer } from './cache-volume.js';
import { fingerprintScript, parseFingerprints, probeScript } from './fingerprint.js';
import { EXTEND_CACHE_LABEL } from '../extend/cache.js';
import { CACHE_LABEL } from '../../cnb/labels.js';
import { APP_DIR, escapeId, LAYERS_DIR, type PhaseContext } from '../phase-context.js';
import { SCRATCH_DIR } from '../container/module-run.js';
import type { Labels } from '../../ports.js';
import { runHelper } from '../container/helper-run.js';

export interface OpenCacheOptions {
  volume: string;
  /** The app image (label value). */
  image: string;
  clear: boolean;
  labels: Labels;
  helperImage: string;
}

/**
 * Creates/clears the volume and reads its metadata. --clear-cache also removes this app's extended
 * images. `created`: the volume is new (the caller removes it again when the build fails before saving).
 */
export async function openCache(ctx: PhaseContext, opts: OpenCacheOptions): Promise<{ meta: CacheMetadata; created: boolean }> {
  if (opts.clear) {
    // Children before parents: a cached image (tagged, extend/cache.ts) that is the parent of another can
    // only go once the child has; rounds while they make progress.
    let ids = await ctx.engine.listImages({ labels: [EXTEND_CACHE_LABEL, `${CACHE_LABEL}=${opts.image}`] });
    for (let round = 0; round < 5 && ids.length > 0; round++) {
      const left: string[] = [];
      for (const id of ids) await ctx.engine.removeImage(id, { force: true }).catch(() => void left.push(id));
      if (left.length === ids.length) break;
      ids = left;
    }
  }
  const created = await ensureCacheVolume(ctx, { name: opts.volume, image: opts.image, clear: opts.clear, labels: opts.labels });
  return { meta: created ? emptyCacheMetadata() : await readCacheMetadata(ctx, opts.volume, opts.helperImage), created };
}

export interface BuiltLayerDir {
  buildpackId: string;
  name: string;
  metadata: LayerMetadataFile;
  hasDir: boolean;
}

/** Volume path of a buildpack layer, as export's launchLayers() names it. */
export function layerPath(buildpackId: string, name: string): string {
  return `${escapeId(buildpackId)}/${name}`;
}

export interface Fingerprints {
  /** "<bp>/<layer>" or "app" -> fingerprint. */
  byPath: Map<string, string>;
}

/**
 * One container computes the fingerprints of every launch or cache layer dir and of the app dir
 * (`lowPriority`: with CPU that others leave idle, e.g. alongside an export).
 */
export async function fingerprintDirs(ctx: PhaseContext, opts: { image: string; layers: string; app: string; cache: string; built: BuiltLayerDir[]; lowPriority?: boolean }): Promise<Fingerprints> {
  const paths = opts.built.filter((l) => l.hasDir && (l.metadata.types.launch || l.metadata.types.cache)).map((l) => layerPath(l.buildpackId, l.name));
  const abs = [...paths.map((p) => `${LAYERS_DIR}/${p}`), APP_DIR];
  const lines = await runCacheScript(ctx, { image: opts.image, layers: opts.layers, cache: opts.cache, app: opts.app, ...fingerprintScript(abs), ...(opts.lowPriority === true ? { lowPriority: true } : {}) });
  const found = parseFingerprints(lines);
  const byPath = new Map<string, string>();
  for (const [p, fp] of found) byPath.set(p === APP_DIR ? 'app' : p.slice(LAYERS_DIR.length + 1), fp);
  return { byPath };
}

export interface FingerprintProbe {
  /** The fingerprints, once the build is done; rejects when the probe failed or was cancelled. */
  result: Promise<Fingerprints>;
  /** Stops the probe (the build failed); removes its container. */
  cancel(): Promise<void>;
}

/**
 * Starts the fingerprint container alongside the build (issue 5, warm rebuilds): it waits for `doneFile`
 * (made by the last build container once bin/build succeeded, module-env.ts Prelude) and then prints the
 * fingerprints of every layer dir with a TOML of the given buildpacks and of the app dir. Its start-up
 * is hidden behind the build; only the hashing itself follows the build.
 */
export function startFingerprintProbe(ctx: PhaseContext, opts: { image: string; layers: string; app: string; scratch: string; buildpackIds: string[]; doneFile: string }): FingerprintProbe {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  ctx.signal?.addEventListener('abort', onAbort);
  const lines: string[] = [];
  const probe = probeScript(opts.doneFile, opts.buildpackIds.map((id) => `${LAYERS_DIR}/${escapeId(id)}`), APP_DIR);
  const run = runHelper(ctx, {
    image: opts.image,
    script: probe,
    name: 'kiln-fingerprints',
    mounts: [
      { type: 'volume', source: opts.layers, target: LAYERS_DIR, readOnly: true },
      { type: 'volume', source: opts.app, target: APP_DIR, readOnly: true },
      { type: 'volume', source: opts.scratch, target: SCRATCH_DIR, readOnly: true },
    ],
    signal: stop.signal,
    onLine: (stream, line) => {
      if (stream === 'stdout') lines.push(line);
      else ctx.reporter.emit({ type: 'debug', message: `fingerprints: ${line}` });
    },
  }).finally(() => ctx.signal?.removeEventListener('abort', onAbort));
  const result = run.then(({ exitCode }) => {
    if (exitCode !== 0) throw new Error(`fingerprint helper exited with ${exitCode}`);
    const byPath = new Map<string, string>();
    for (const [p, fp] of parseFingerprints(lines)) byPath.set(p === APP_DIR ? 'app' : p.slice(LAYERS_DIR.length + 1), fp);
    return { byPath };
  });
  result.catch(() => undefined);
  return {
    result,
    cancel: async () => {
      stop.abort();
      await run.catch(() => undefined);
    },
  };
}

/** Dirs whose fingerprint maps to a diffID the previous image has (export's `unchanged`). */
export function unchangedDirs(meta: CacheMetadata, fps: Fingerprints, previousLayers: readonly string[]): Record<string, string> {
  const have = new Set(previousLayers);
  const out: Record<string, string> = {};
  for (const [path, fp] of fps.byPath) {
    const diffId = meta.diffIds[`${path}@${fp}`];
    if (diffId !== undefined && have.has(diffId)) out[path] = diffId;
  }
  return out;
}

export interface SaveCacheOptions {
  volume: string;
  helperImage: string;
  layersVolume: string;
  old: CacheMetadata;
  fps: Fingerprints;
  built: { id: string; version: string; layers: { name: string; metadata: LayerMetadataFile; hasDir: boolean; sbom?: Record<string, string> }[] }[];
  /** Labels of the exported image (its lifecycle metadata has the diffIDs). */
  exportedLabels: Record<string, string>;
}

/** The new cache metadata and the save plan (pure). */
export function nextCache(opts: Omit<SaveCacheOptions, 'volume' | 'helperImage' | 'layersVolume'>): { meta: CacheMetadata; save: SaveLayer[] } {
  const label = opts.exportedLabels[LIFECYCLE_METADATA_LABEL];
  const md = label !== undefined ? decodeLifecycleMetadata(label) : undefined;
  const diffIds: Record<string, string> = {};
  const save: SaveLayer[] = [];
  const buildpacks: CacheMetadata['buildpacks'] = [];
  for (const bp of opts.built) {
    const exported = md?.buildpacks.find((b) => b.key === bp.id)?.layers ?? {};
    const layers: Record<string, CachedLayer> = {};
    for (const l of bp.layers) {
      const path = layerPath(bp.id, l.name);
      const fp = opts.fps.byPath.get(path);
      const sha = exported[l.name]?.sha;
      if (fp !== undefined && sha !== undefined && l.metadata.types.launch) diffIds[`${path}@${fp}`] = sha;
      if (!l.metadata.types.cache || !l.hasDir || fp === undefined) continue;
      const prev = opts.old.buildpacks.find((b) => b.key === bp.id)?.layers[l.name];
      layers[l.name] = {
        sha: l.metadata.types.launch && sha !== undefined ? sha : `fp:${fp}`,
        data: l.metadata.metadata,
        build: l.metadata.types.build,
        launch: l.metadata.types.launch,
        cache: true,
        fingerprint: fp,
        ...(l.sbom !== undefined ? { sbom: l.sbom } : {}),
      };
      save.push({ buildpackId: bp.id, name: l.name, keep: prev?.fingerprint === fp });
    }
    if (Object.keys(layers).length > 0) buildpacks.push({ key: bp.id, version: bp.version, layers });
  }
  const appFp = opts.fps.byPath.get('app');
  if (appFp !== undefined && md !== undefined && md.app.length === 1 && md.app[0] !== undefined) diffIds[`app@${appFp}`] = md.app[0].sha;
  return { meta: { version: 1, buildpacks, diffIds }, save };
}

/** Saves the cache; returns the events' layer names. Skips all I/O when nothing changed. */
export async function saveCache(ctx: PhaseContext, opts: SaveCacheOptions): Promise<void> {
  const { meta, save } = nextCache(opts);
  for (const s of save) ctx.reporter.emit({ type: 'layer', decision: 'cached', layer: `${s.buildpackId}:${s.name}` });
  const unchanged = save.every((s) => s.keep) && JSON.stringify(meta) === JSON.stringify(opts.old);
  if (unchanged) return;
  await runCacheScript(ctx, { image: opts.helperImage, layers: opts.layersVolume, cache: opts.volume, ...saveScript(save) });
  await writeCacheMetadata(ctx, opts.volume, opts.helperImage, meta);
}
