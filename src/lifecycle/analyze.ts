/**
 * The analyze step (platform.md, "`analyzer`"), daemon only: the previous app image (default: the output image name)
 * and its io.buildpacks.lifecycle.metadata. A missing image or a missing/corrupt label is tolerated —
 * the build then simply starts without previous metadata (warned for a corrupt label).
 */
import { decodeLifecycleMetadata, LIFECYCLE_METADATA_LABEL, type LifecycleMetadata } from '../image/lifecycle-labels.js';
import type { PhaseContext } from './phase-context.js';

export interface Analyzed {
  /** Daemon image id of the previous image. */
  imageId: string;
  /** Its diffIDs, bottom to top. */
  layers: string[];
  metadata?: LifecycleMetadata;
}

export async function analyzePrevious(ctx: PhaseContext, image: string): Promise<Analyzed | undefined> {
  const info = await ctx.engine.inspectImage(image);
  if (info === undefined) return undefined;
  const label = info.config.labels[LIFECYCLE_METADATA_LABEL];
  if (label === undefined || label === '') return { imageId: info.id, layers: info.layers };
  try {
    return { imageId: info.id, layers: info.layers, metadata: decodeLifecycleMetadata(label) };
  } catch (e) {
    ctx.reporter.emit({ type: 'warning', message: `previous image ${image}: ${(e as Error).message}; building without its layer metadata` });
    return { imageId: info.id, layers: info.layers };
  }
}
