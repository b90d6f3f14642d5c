/**
 * The build cache volume (platform.md, "Caching", issue 5). One named volume per app image, labelled
 * io.kiln.cache=<app image>, reused by every build of that image. kiln's layout (simpler than the
 * lifecycle's committed/<diffID>.tar — layer DIRECTORIES are kept, so restoring is a `cp -a` inside a
 * container and nothing streams through the host):
 *
 *   <cache>/kiln-cache.json          CacheMetadata (below), written last
 *   <cache>/layers/<bp>/<layer>/     contents of each cache=true layer of the last build
 *
 * `sha` of a cached layer is its diffID when it is also a launch layer (so platform.md, "Layer Restoration" can compare it with
 * the previous image's), else `fp:<fingerprint>`. `diffIds` maps a content fingerprint of an exported
 * dir (cache/fingerprint.ts) to the diffID its tar had, so an unchanged layer is not tarred again.
 */
import { runHelper } from '../container/helper-run.js';
import type { ShScript } from '../container/sh-script.js';
import { createHash } from 'node:crypto';
import { ExitCode, KilnError } from '../../errors.js';
import { makeTar } from '../../image/tar-files.js';
import type { Labels } from '../../ports.js';
import { APP_DIR, escapeId, LAYERS_DIR, type CnbUser, type PhaseContext } from '../phase-context.js';
import { readFilesFromVolume, writeToVolume } from '../container/volume-io.js';

import { CACHE_LABEL, INPUT_IMAGES_LABEL, INPUT_KEY_LABEL } from '../../cnb/labels.js';

export { CACHE_LABEL, INPUT_IMAGES_LABEL, INPUT_KEY_LABEL };
export const CACHE_METADATA_FILE = 'kiln-cache.json';
/** Where the cache volume is mounted in kiln's helper containers. */
export const CACHE_DIR = '/kiln-cache';

export interface CachedLayer {
  sha: string;
  data: Record<string, unknown>;
  build: boolean;
  launch: boolean;
  cache: boolean;
  /** Content fingerprint of the dir when it was saved. */
  fingerprint: string;
  /** The layer's SBOM files by format ("cdx" -> JSON text), restored with its metadata (restore-sbom.ts). */
  sbom?: Record<string, string>;
}

export interface CacheMetadata {
  version: 1;
  buildpacks: { key: string; version: string; layers: Record<string, CachedLayer> }[];
  /** "<path>@<fingerprint>" -> diffID of the tar export made of that content. */
  diffIds: Record<string, string>;
}

export function emptyCacheMetadata(): CacheMetadata {
  return { version: 1, buildpacks: [], diffIds: {} };
}

/** kiln-cache-<first 12 hex of sha256(app image name)>: stable per app image, valid as a volume name. */
export function defaultCacheVolume(image: string): string {
  return `kiln-cache-${createHash('sha256').update(image).digest('hex').slice(0, 12)}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Lenient decoding: anything unexpected gives an empty cache (a cache problem only costs time). */
export function decodeCacheMetadata(text: string): CacheMetadata {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return emptyCacheMetadata();
  }
  if (!isRecord(raw) || raw.version !== 1 || !Array.isArray(raw.buildpacks) || !isRecord(raw.diffIds)) return emptyCacheMetadata();
  const buildpacks: CacheMetadata['buildpacks'] = [];
  for (const bp of raw.buildpacks) {
    if (!isRecord(bp) || typeof bp.key !== 'string' || !isRecord(bp.layers)) continue;
    const layers: Record<string, CachedLayer> = {};
    for (const [name, l] of Object.entries(bp.layers)) {
      if (!isRecord(l) || typeof l.sha !== 'string' || typeof l.fingerprint !== 'string') continue;
      const sbom = isRecord(l.sbom) ? Object.fromEntries(Object.entries(l.sbom).filter((e): e is [string, string] => typeof e[1] === 'string')) : undefined;
      layers[name] = { sha: l.sha, data: isRecord(l.data) ? l.data : {}, build: l.build === true, launch: l.launch === true, cache: l.cache === true, fingerprint: l.fingerprint, ...(sbom !== undefined ? { sbom } : {}) };
    }
    buildpacks.push({ key: bp.key, version: typeof bp.version === 'string' ? bp.version : '', layers });
  }
  const diffIds = Object.fromEntries(Object.entries(raw.diffIds).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return { version: 1, buildpacks, diffIds };
}

export interface CacheVolumeOptions {
  name: string;
  /** The app image it belongs to (label value). */
  image: string;
  /** Start from an empty cache (--clear-cache). */
  clear: boolean;
  /** Extra labels (KILN_LABELS, test labels); the session label must not be among them. */
  labels: Labels;
}

/**
 * Creates the cache volume when missing (or recreates it when clearing); returns whether it is new. A
 * volume of that name that kiln did not create (no io.kiln.cache label) is the user's: it is neither
 * emptied nor written to (issue 14: `--cache-volume mydata --clear-cache` must not delete mydata).
 */
export async function ensureCacheVolume(ctx: PhaseContext, opts: CacheVolumeOptions): Promise<boolean> {
  const exists = await ctx.engine.volumeExists(opts.name);
  if (exists && !(await ctx.engine.listVolumes({ labels: [CACHE_LABEL] })).includes(opts.name)) throw notACacheVolume(opts.name, opts.image);
  if (exists && !opts.clear) return false;
  if (exists) await ctx.engine.removeVolume(opts.name);
  await ctx.engine.createVolume(opts.name, { ...opts.labels, [CACHE_LABEL]: opts.image });
  return true;
}

export function notACacheVolume(name: string, image: string): KilnError {
  return new KilnError({
    action: `use cache volume ${name} for ${image}`,
    cause: `volume ${name} exists but is not a kiln cache volume (it has no ${CACHE_LABEL} label), so kiln will neither clear nor write it`,
    hint: 'pass another name with --cache-volume (kiln creates it), or remove or rename that volume yourself if its data may go',
    exitCode: ExitCode.usage,
    subject: name,
  });
}

export async function readCacheMetadata(ctx: PhaseContext, volume: string, helperImage: string): Promise<CacheMetadata> {
  const files = await readFilesFromVolume(ctx, { volume, image: helperImage, path: `/${CACHE_METADATA_FILE}`, maxBytes: 64 * 1024 * 1024 });
  const text = files.get(CACHE_METADATA_FILE);
  return text === undefined ? emptyCacheMetadata() : decodeCacheMetadata(text.toString('utf8'));
}

export async function writeCacheMetadata(ctx: PhaseContext, volume: string, helperImage: string, meta: CacheMetadata): Promise<void> {
  await writeToVolume(ctx, { volume, image: helperImage, dest: '/', tar: await makeTar([{ path: CACHE_METADATA_FILE, content: JSON.stringify(meta), mode: 0o644 }]) });
}

export interface SaveLayer {
  buildpackId: string;
  name: string;
  /** Keep the copy already in the cache (same fingerprint) instead of copying again. */
  keep: boolean;
}

/**
 * The script that replaces <cache>/layers with this build's cache=true layers: unchanged ones are moved
 * over from the old tree, changed ones copied (`cp -a`) from the layers volume. Per layer, four
 * parameters (sh-script.ts): the new parent dir, `keep` or `copy`, the source and the destination.
 */
export function saveScript(layers: SaveLayer[]): ShScript {
  const script = [
    'set -e',
    `rm -rf ${CACHE_DIR}/layers.new`,
    `mkdir -p ${CACHE_DIR}/layers.new`,
    'while [ $# -gt 0 ]; do mkdir -p "$1"; if [ "$2" = keep ]; then mv "$3" "$4"; else cp -a "$3" "$4"; fi; shift 4; done',
    `rm -rf ${CACHE_DIR}/layers`,
    `mv ${CACHE_DIR}/layers.new ${CACHE_DIR}/layers`,
  ].join('\n');
  const args = layers.flatMap((l) => {
    const rel = `${escapeId(l.buildpackId)}/${l.name}`;
    return [`${CACHE_DIR}/layers.new/${escapeId(l.buildpackId)}`, l.keep ? 'keep' : 'copy', l.keep ? `${CACHE_DIR}/layers/${rel}` : `${LAYERS_DIR}/${rel}`, `${CACHE_DIR}/layers.new/${rel}`];
  });
  return { script, args };
}

/**
 * Runs a root shell script in a container of `image` with the layers and cache volumes mounted; `script`
 * is fixed kiln text, every name or path goes in `args` (its positional parameters, sh-script.ts).
 */
export async function runCacheScript(ctx: PhaseContext, opts: { image: string; layers: string; cache?: string; app?: string; script: string; args?: string[]; user?: CnbUser; lowPriority?: boolean }): Promise<string[]> {
  const out: string[] = [];
  const code = await runHelper(ctx, {
    image: opts.image,
    script: { script: opts.script, args: opts.args ?? [] },
    name: 'kiln-cache',
    ...(opts.user !== undefined ? { user: `${opts.user.uid}:${opts.user.gid}` } : {}),
    mounts: [
      { type: 'volume', source: opts.layers, target: LAYERS_DIR },
      ...(opts.cache !== undefined ? [{ type: 'volume' as const, source: opts.cache, target: CACHE_DIR }] : []),
      ...(opts.app !== undefined ? [{ type: 'volume' as const, source: opts.app, target: APP_DIR }] : []),
    ],
    ...(opts.lowPriority === true ? { lowPriority: true } : {}),
    onLine: (stream, line) => {
      if (stream === 'stdout') out.push(line);
      else ctx.reporter.emit({ type: 'debug', message: `cache: ${line}` });
    },
  });
  if (code.exitCode !== 0) throw new Error(`cache helper script exited with ${code.exitCode}`);
  return out;
}
