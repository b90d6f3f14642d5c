/**
 * `--publish` (build and rebase): push the app image, which already exists in the daemon, to the
 * registry its name points at. The daemon does the push, so DOCKER_HOST decides which daemon pushes.
 */
import { ExitCode, KilnError } from '../errors.js';
import type { ContainerEngine, RegistryAuth, Reporter } from '../ports.js';
import { registryHostOf } from '../image/registry-host.js';
import { credentialsFor } from '../registry/docker-credentials.js';
import { hasRegistryHost } from '../image/registry-host.js';

export { hasRegistryHost } from '../image/registry-host.js';

/** The Docker config's credentials for the registry `ref` points at (never printed). */
export function registryAuthFor(ref: string): Promise<RegistryAuth | undefined> {
  return credentialsFor(registryHostOf(ref));
}

/** Pushes `ref`; a name without a tag is pushed as :latest (the tag kiln gave it). */
export async function publishImage(engine: ContainerEngine, reporter: Reporter, ref: string, auth?: RegistryAuth): Promise<void> {
  if (engine.pushImage === undefined) {
    throw new KilnError({ action: `publish ${ref}`, cause: 'this container engine cannot push images', exitCode: ExitCode.generic });
  }
  if (!hasRegistryHost(ref)) {
    reporter.emit({ type: 'warning', message: `${ref} names no registry host: the daemon pushes it to its default registry (Docker Hub)` });
  }
  reporter.emit({ type: 'info', message: `Publishing ${ref}` });
  await engine.pushImage(ref, auth !== undefined ? { auth } : {});
  reporter.emit({ type: 'info', message: `Published ${ref}` });
}
