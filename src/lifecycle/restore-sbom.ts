/**
 * Layer SBOM files come back with the layer metadata on a rebuild (buildpack.md "Layer Types" table:
 * "Metadata and SBOM Restored"; "Launch Layers": the lifecycle MUST restore any layer-associated SBOM to
 * `<layers>/<layer>.sbom.<ext>`). The lifecycle takes them from the previous image's SBOM layer
 * (`<layers>/sbom/launch/<bp>/<layer>/sbom.<ext>.json`) and from the cache (`sbom/cache/...`). kiln does
 * the same for launch layers (one never-started container of the previous image, only when its metadata
 * records an SBOM layer) and keeps cached layers' SBOMs in the cache metadata (cache/cache-volume.ts CachedLayer.sbom).
 * Launch-level and build-level SBOMs are not restored (the table's footnote).
 */
import { readTar } from '../image/tar-files.js';
import type { Analyzed } from './analyze.js';
import { LAYERS_DIR, type PhaseContext } from './phase-context.js';
import { createHelperContainer } from './container/helper-run.js';
import { isMissingPath } from './container/volume-io.js';

/** A layer's SBOM files by format ("cdx" -> JSON text). */
export type LayerSboms = Record<string, string>;

/** `<escaped bp>/<layer>` -> its SBOM files. */
export type LaunchSbomIndex = Map<string, LayerSboms>;

const LAYER_SBOM = /^launch\/([^/]+)\/([^/]+)\/sbom\.([^./]+)\.json$/;

/** The layer SBOMs in a tar of `<layers>/sbom/launch` (entries "launch/<bp>/<layer>/sbom.<ext>.json"). */
export function indexLaunchSboms(entries: readonly { path: string; type: string; content: Buffer }[]): LaunchSbomIndex {
  const out: LaunchSbomIndex = new Map();
  for (const e of entries) {
    const m = e.type === 'file' ? LAYER_SBOM.exec(e.path) : null;
    if (!m) continue; // launch.sbom.* of a buildpack (launch/<bp>/sbom.*.json) is not restored
    const key = `${m[1] ?? ''}/${m[2] ?? ''}`;
    out.set(key, { ...out.get(key), [m[3] ?? '']: e.content.toString('utf8') });
  }
  return out;
}

const FORMAT = /^[A-Za-z0-9-]+$/;

/** The file name a restored SBOM gets next to the layer's TOML; undefined for a format that is not a plain word. */
export function layerSbomFile(layer: string, format: string): string | undefined {
  return FORMAT.test(format) ? `${layer}.sbom.${format}.json` : undefined;
}

/** The previous image's layer SBOMs; empty when it has no SBOM layer (nothing is read then). */
export async function readPreviousLaunchSboms(ctx: PhaseContext, previous: Analyzed | undefined): Promise<LaunchSbomIndex> {
  if (previous?.metadata?.sbom === undefined) return new Map();
  const id = await createHelperContainer(ctx, { image: previous.imageId });
  try {
    const tar = await ctx.engine.getArchive(id, `${LAYERS_DIR}/sbom/launch`);
    return indexLaunchSboms(await readTar(tar, { maxBytes: 64 * 1024 * 1024 }));
  } catch (e) {
    if (isMissingPath(e)) return new Map();
    throw e;
  } finally {
    await ctx.engine.removeContainer(id).catch(() => undefined);
  }
}
