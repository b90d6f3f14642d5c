/**
 * The restore step (platform.md, "`restorer`", "Layer Restoration"; buildpack.md, "Reusing Layers") against kiln's cache volume
 * (cache/cache-volume.ts): which `<layer>.toml` files (only `[metadata]`) and `store.toml` files to write, and which
 * cached layer dirs to copy back. Decisions are pure (planRestore); restoreLayers does the I/O: one tar
 * put for the TOML files and one helper container for the copies.
 */
import type { LifecycleMetadata } from '../image/lifecycle-labels.js';
import { makeTar, type TarFileEntry } from '../image/tar-files.js';
import { stringifyToml } from '../cnb/toml.js';
import { CACHE_DIR, runCacheScript, type CacheMetadata } from './cache/cache-volume.js';
import { layerSbomFile, type LaunchSbomIndex, type LayerSboms } from './restore-sbom.js';
import { escapeId, LAYERS_DIR, type CnbUser, type PhaseContext } from './phase-context.js';
import { writeToVolume } from './container/volume-io.js';

export interface RestorePlan {
  /** `<layers>/<bp>/<name>.toml` with only `[metadata]`, and the layer's SBOM files (restore-sbom.ts). */
  tomls: { buildpackId: string; name: string; data: Record<string, unknown>; sbom?: LayerSboms }[];
  /** Cached dirs to copy back into `<layers>/<bp>/<name>/`. */
  copies: { buildpackId: string; name: string }[];
  stores: { buildpackId: string; metadata: Record<string, unknown> }[];
  /** "<bp>:<name>" of cached layers dropped because their diffID disagrees with the image's (platform.md, "Layer Restoration"). */
  dropped: string[];
}

/**
 * `launchSboms`: the previous image's layer SBOMs; they win over the cache's for a layer in both, as
 * the lifecycle restores the cache's first and the image's over them.
 */
export function planRestore(group: readonly { id: string }[], previous: LifecycleMetadata | undefined, cache: CacheMetadata, launchSboms: LaunchSbomIndex = new Map()): RestorePlan {
  const plan: RestorePlan = { tomls: [], copies: [], stores: [], dropped: [] };
  const sbomOf = (id: string, name: string, cached?: LayerSboms): { sbom?: LayerSboms } => {
    const all = { ...cached, ...launchSboms.get(`${escapeId(id)}/${name}`) };
    return Object.keys(all).length > 0 ? { sbom: all } : {};
  };
  for (const { id } of group) {
    const prev = previous?.buildpacks.find((b) => b.key === id);
    const cached = cache.buildpacks.find((b) => b.key === id);
    if (prev?.store !== undefined) plan.stores.push({ buildpackId: id, metadata: prev.store.metadata });
    const handled = new Set<string>();
    for (const [name, l] of Object.entries(prev?.layers ?? {})) {
      if (!l.launch) continue;
      if (l.build && !l.cache) continue; // 1 0 1: must be rebuilt (9.4)
      if (l.cache) {
        const c = cached?.layers[name];
        if (c === undefined || !c.cache) continue;
        handled.add(name);
        if (c.sha !== l.sha) {
          plan.dropped.push(`${id}:${name}`);
          continue;
        }
        plan.tomls.push({ buildpackId: id, name, data: l.data, ...sbomOf(id, name, c.sbom) });
        plan.copies.push({ buildpackId: id, name });
        continue;
      }
      plan.tomls.push({ buildpackId: id, name, data: l.data, ...sbomOf(id, name) });
    }
    for (const [name, c] of Object.entries(cached?.layers ?? {})) {
      if (!c.cache || handled.has(name)) continue;
      // A launch=true cached layer the previous image does not record: its diffID cannot be checked
      // against the image, so it is restored only when there is no previous image metadata at all.
      if (c.launch && previous !== undefined) {
        plan.dropped.push(`${id}:${name}`);
        continue;
      }
      plan.tomls.push({ buildpackId: id, name, data: c.data, ...sbomOf(id, name, c.sbom) });
      plan.copies.push({ buildpackId: id, name });
    }
  }
  return plan;
}

export interface RestoreOptions {
  plan: RestorePlan;
  layersVolume: string;
  cacheVolume: string;
  /** Image for the helper containers (the builder). */
  image: string;
  user: CnbUser;
}

export async function restoreLayers(ctx: PhaseContext, opts: RestoreOptions): Promise<void> {
  const { plan, user } = opts;
  const own = { uid: user.uid, gid: user.gid };
  const entries: TarFileEntry[] = [];
  const dirs = new Set<string>();
  const dir = (bp: string): string => {
    const d = escapeId(bp);
    if (!dirs.has(d)) {
      dirs.add(d);
      entries.push({ path: d, type: 'directory', mode: 0o755, ...own });
    }
    return d;
  };
  for (const s of plan.stores) entries.push({ path: `${dir(s.buildpackId)}/store.toml`, content: stringifyToml({ metadata: s.metadata }), mode: 0o644, ...own });
  for (const t of plan.tomls) {
    entries.push({ path: `${dir(t.buildpackId)}/${t.name}.toml`, content: stringifyToml({ metadata: t.data }), mode: 0o644, ...own });
    for (const [format, text] of Object.entries(t.sbom ?? {})) {
      const file = layerSbomFile(t.name, format);
      if (file !== undefined) entries.push({ path: `${dir(t.buildpackId)}/${file}`, content: text, mode: 0o644, ...own });
    }
    ctx.reporter.emit({ type: 'layer', decision: 'restored', layer: `${t.buildpackId}:${t.name}` });
  }
  for (const d of plan.dropped) ctx.reporter.emit({ type: 'info', message: `Dropping cached layer '${d}': its digest does not match the previous image's` });
  if (entries.length > 0) await writeToVolume(ctx, { volume: opts.layersVolume, image: opts.image, dest: '/', tar: await makeTar(entries) });
  if (plan.copies.length === 0) return;
  // Pairs of (layer dir, its cached copy) as parameters (sh-script.ts): layer names are never script text.
  const script = `set -e\nwhile [ $# -gt 0 ]; do rm -rf "$1"; cp -a "$2" "$1"; shift 2; done`;
  const args = plan.copies.flatMap((c) => {
    const rel = `${escapeId(c.buildpackId)}/${c.name}`;
    return [`${LAYERS_DIR}/${rel}`, `${CACHE_DIR}/layers/${rel}`];
  });
  await runCacheScript(ctx, { image: opts.image, layers: opts.layersVolume, cache: opts.cacheVolume, script, args });
}
