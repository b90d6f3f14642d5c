/**
 * Writing the builder image through the port (platform.md, "Build Image"): the planned layers become reproducible
 * tars in a work dir, the config is the build image's plus the builder labels and WorkingDir=/layers
 * (as pack does), and one docker-load archive carrying only the new layers is loaded with the tag in
 * its manifest — so the tag moves only when the whole image is in, and identical inputs give an
 * identical image id (no Dockerfile build, no timestamps).
 */
import { join } from 'node:path';
import { imageArchiveStream, type ArchiveLayer } from '../image/image-archive.js';
import { writeLayerTar } from '../image/layer-tar.js';
import { ExitCode, KilnError } from '../errors.js';
import type { ContainerEngine, ImageInfo, Labels } from '../ports.js';
import { builderLabels, PACKAGE_METADATA_LABELS } from './builder-labels.js';
import { builderLayerSpecs } from './builder-layers.js';
import type { BuilderPlan } from './builder-plan.js';
import { LAYERS_DIR } from '../cnb/paths.js';

export interface BuilderImageInput {
  plan: BuilderPlan;
  /** The build image, as inspected. */
  base: ImageInfo;
  user: { uid: number; gid: number };
  tag: string;
  /** A temp dir the caller removes. */
  workDir: string;
  createdBy: { name: string; version: string };
  /** Extra labels (session/test labels). */
  labels: Labels;
}

/** platform.md, "Build Reproducibility": SOURCE_DATE_EPOCH when set, else 1980-01-01T00:00:01Z. */
export function reproducibleCreated(env: NodeJS.ProcessEnv = process.env): string {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000).toISOString().replace('.000Z', 'Z');
  return '1980-01-01T00:00:01Z';
}

/** Writes the layers and loads the image; resolves with the image id (the tag points at it). */
export async function writeBuilderImage(engine: ContainerEngine, input: BuilderImageInput): Promise<string> {
  const { plan, base } = input;
  const diffIds = new Map<string, string>();
  const layers: ArchiveLayer[] = [];
  let n = 0;
  for (const spec of builderLayerSpecs(plan, input.user)) {
    const tarPath = join(input.workDir, `layer-${n++}.tar`);
    const { diffId } = await writeLayerTar(spec.entries(), tarPath);
    diffIds.set(spec.name, diffId);
    layers.push({ diffId, tarPath, history: { created_by: `kiln builder: ${spec.name}` } });
  }
  const labels: Labels = { ...base.config.labels, ...builderLabels(plan, diffIds, input.createdBy), ...input.labels };
  for (const l of PACKAGE_METADATA_LABELS) delete labels[l];
  const { imageId, stream } = await imageArchiveStream({
    base: { layers: base.layers, os: base.os, architecture: base.architecture, ...(base.variant !== undefined ? { variant: base.variant } : {}) },
    layers,
    config: { ...base.config, workingDir: LAYERS_DIR, labels },
    created: reproducibleCreated(),
    tags: [input.tag],
  });
  try {
    await engine.loadImage(stream);
  } catch (e) {
    throw new KilnError({
      action: `load builder image ${input.tag}`,
      cause: e instanceof Error ? e.message : String(e),
      hint: 'the daemon refused the image archive; nothing was tagged',
      exitCode: ExitCode.generic,
      original: e,
    });
  }
  return imageId;
}
