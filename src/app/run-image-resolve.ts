/**
 * Finding a run image in the daemon (platform.md "Run Image Resolution", run.toml): the image named in
 * run.toml first, then each of its mirrors in order. kiln never pulls, so "accessible" means "present in
 * the daemon". The name recorded in io.buildpacks.lifecycle.metadata stays the run.toml image (with its
 * mirrors); only the image the app is built on comes from the mirror.
 */
import { ExitCode, KilnError } from '../errors.js';
import type { ContainerEngine, ImageInfo } from '../ports.js';
import { registryHostOf } from '../image/registry-host.js';
import type { RunImageRef } from '../spec/models.js';
import type { ImageFetcher } from './image-fetcher.js';
import { runImageCandidates as orderedRunImageCandidates } from './run-image-choice.js';

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

/**
 * Through the pull policy (image-fetcher.ts): the run image or one of its mirrors, ordered as pack does
 * (run-image-choice.ts: names in the app image's registry first, then the user's configured mirrors, the
 * image itself, run.toml's mirrors). `name` is the image used; callers record `image` with its mirrors.
 */
export async function fetchRunImage(
  fetcher: ImageFetcher,
  image: string,
  runImages: readonly RunImageRef[],
  opts: { appImage: string; userMirrors?: readonly string[]; what?: string },
): Promise<{ name: string; info: ImageInfo }> {
  const mirrors = runImages.find((r) => r.image === image)?.mirrors ?? [];
  const { ref, info } = await fetcher.ensureFirst(orderedRunImageCandidates(image, mirrors, opts.appImage, opts.userMirrors ?? []), opts.what ?? 'run image');
  return { name: ref, info };
}

/** The info line when a mirror stands in for the run image, saying why. */
export function mirrorNotice(image: string, used: string, appImage: string, policy: ImageFetcher['policy']): string {
  const appRegistry = registryHostOf(appImage);
  if (registryHostOf(used) === appRegistry && registryHostOf(image) !== appRegistry) return `Run image ${image}: using its mirror ${used} in the app image's registry`;
  return `Run image ${image} ${policy === 'always' ? 'could not be pulled' : 'is not in the Docker daemon'}; using its mirror ${used}`;
}
