/**
 * `kiln build --publish` (issue 17): the previous app image lives in the registry, so when the daemon
 * lacks it, it is pulled (unless the policy is never) for analyze to reuse its layers and metadata. A
 * first publish has nothing to pull: that is not an error, and neither is any other failed pull here
 * (the build does not need the previous image; the push reports registry trouble itself).
 */
import { isKilnError } from '../errors.js';
import type { ContainerEngine, Reporter } from '../ports.js';
import type { ImageFetcher } from './image-fetcher.js';

export async function pullPreviousImage(deps: { engine: ContainerEngine; reporter: Reporter; fetcher: ImageFetcher }, image: string): Promise<void> {
  if (deps.fetcher.policy === 'never' || (await deps.engine.inspectImage(image)) !== undefined) return;
  try {
    await deps.fetcher.ensure(image, 'previous app image');
  } catch (e) {
    const reason = (isKilnError(e) ? e.causeText : String(e)).replace(/^it does not exist in the Docker daemon, and the pull failed: /, '');
    const firstPublish = /not found|manifest unknown|name unknown/i.test(reason);
    deps.reporter.emit({ type: firstPublish ? 'info' : 'warning', message: `no previous image ${image} to reuse layers from (${reason})` });
  }
}
