/**
 * The order in which kiln tries a run image and its mirrors (issue 17, as pack does): the names in the
 * app image's registry first, then the mirrors the user configured (`kiln config run-image-mirrors`),
 * then the run image, then the mirrors from the builder's run.toml. Duplicates are tried once.
 */
import { registryHostOf } from '../image/registry-host.js';

export function runImageCandidates(runImage: string, builderMirrors: readonly string[], appImage: string, userMirrors: readonly string[] = []): string[] {
  const appRegistry = registryHostOf(appImage);
  const all = [runImage, ...userMirrors, ...builderMirrors];
  const sameRegistry = all.filter((r) => registryHostOf(r) === appRegistry);
  return [...new Set([...sameRegistry, ...userMirrors, runImage, ...builderMirrors])];
}
