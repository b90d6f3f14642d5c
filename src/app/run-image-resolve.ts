/**
 * Finding a run image in the daemon (platform.md "Run Image Resolution", run.toml): the image named in
 * run.toml first, then each of its mirrors in order. kiln never pulls, so "accessible" means "present in
 * the daemon". The name recorded in io.buildpacks.lifecycle.metadata stays the run.toml image (with its
 * mirrors); only the image the app is built on comes from the mirror.
 */
import { ExitCode, KilnError } from '../errors.js';
import type { ContainerEngine, ImageInfo } from '../ports.js';
import type { RunImageRef } from '../spec/models.js';

/** The names to try for `image`: itself, then the mirrors of its run.toml entry. */
export function runImageCandidates(image: string, runImages: readonly RunImageRef[]): string[] {
  const entry = runImages.find((r) => r.image === image);
  return [image, ...(entry?.mirrors ?? []).filter((m) => m !== image)];
}

/** The first candidate present in the daemon, if any. */
export async function findRunImage(engine: Pick<ContainerEngine, 'inspectImage'>, image: string, runImages: readonly RunImageRef[]): Promise<{ name: string; info: ImageInfo } | undefined> {
  for (const name of runImageCandidates(image, runImages)) {
    const info = await engine.inspectImage(name);
    if (info !== undefined) return { name, info };
  }
  return undefined;
}

/** The first candidate present in the daemon, or the missing-image error naming every name tried. */
export async function resolveRunImage(engine: Pick<ContainerEngine, 'inspectImage'>, image: string, runImages: readonly RunImageRef[], what = 'run image'): Promise<{ name: string; info: ImageInfo }> {
  const found = await findRunImage(engine, image, runImages);
  if (found !== undefined) return found;
  const names = runImageCandidates(image, runImages);
  throw new KilnError({
    action: `inspect ${what} ${image}`,
    cause: names.length > 1 ? `neither the image nor its mirrors (${names.slice(1).join(', ')}) exist in the Docker daemon` : 'the image does not exist in the Docker daemon',
    hint: 'build or load it first (kiln never pulls)',
    exitCode: ExitCode.missingImage,
  });
}
