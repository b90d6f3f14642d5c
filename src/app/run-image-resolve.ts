/**
 * Finding a run image (platform.md "Run Image Resolution", run.toml): the image named in run.toml, then
 * its mirrors; a build gets it through the pull policy (fetchRunImage), `kiln detect` only looks in the
 * daemon (findRunImage). The name recorded in io.buildpacks.lifecycle.metadata stays the run.toml image (with its
 * mirrors); only the image the app is built on comes from the mirror.
 */
import type { ContainerEngine, ImageInfo } from '../ports.js';
import { registryHostOf } from '../image/registry-host.js';
import type { RunImageRef } from '../cnb/models.js';
import type { ImageFetcher } from './image-fetcher.js';
import { runImageCandidates as orderedRunImageCandidates } from './run-image-choice.js';

/** The mirrors of `image`'s run.toml entry (none when run.toml does not name it). */
function mirrorsOf(image: string, runImages: readonly RunImageRef[]): readonly string[] {
  return runImages.find((r) => r.image === image)?.mirrors ?? [];
}

/** The names to try for `image`: itself, then the mirrors of its run.toml entry. */
export function runImageCandidates(image: string, runImages: readonly RunImageRef[]): string[] {
  return [image, ...mirrorsOf(image, runImages).filter((m) => m !== image)];
}

/** The first candidate present in the daemon, if any. */
export async function findRunImage(engine: Pick<ContainerEngine, 'inspectImage'>, image: string, runImages: readonly RunImageRef[]): Promise<{ name: string; info: ImageInfo } | undefined> {
  for (const name of runImageCandidates(image, runImages)) {
    const info = await engine.inspectImage(name);
    if (info !== undefined) return { name, info };
  }
  return undefined;
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
  const { ref, info } = await fetcher.ensureFirst(orderedRunImageCandidates(image, mirrorsOf(image, runImages), opts.appImage, opts.userMirrors ?? []), opts.what ?? 'run image');
  return { name: ref, info };
}

/** The info line when a mirror stands in for the run image, saying why. */
export function mirrorNotice(image: string, used: string, appImage: string, policy: ImageFetcher['policy']): string {
  const appRegistry = registryHostOf(appImage);
  if (registryHostOf(used) === appRegistry && registryHostOf(image) !== appRegistry) return `Run image ${image}: using its mirror ${used} in the app image's registry`;
  return `Run image ${image} ${policy === 'always' ? 'could not be pulled' : 'is not in the Docker daemon'}; using its mirror ${used}`;
}
