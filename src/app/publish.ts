/**
 * `--publish` (build and rebase): push the app image, which already exists in the daemon, to the
 * registry its name points at. The daemon does the push, so DOCKER_HOST decides which daemon pushes.
 */
import { ExitCode, KilnError } from '../errors.js';
import type { ContainerEngine, Reporter } from '../ports.js';

/** An image name with a registry host part (`host:port/…`, `localhost/…`, or a dotted host). */
export function hasRegistryHost(ref: string): boolean {
  const slash = ref.indexOf('/');
  if (slash < 0) return false;
  const first = ref.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost';
}

/** Pushes `ref`; a name without a tag is pushed as :latest (the tag kiln gave it). */
export async function publishImage(engine: ContainerEngine, reporter: Reporter, ref: string): Promise<void> {
  if (engine.pushImage === undefined) {
    throw new KilnError({ action: `publish ${ref}`, cause: 'this container engine cannot push images', exitCode: ExitCode.generic });
  }
  if (!hasRegistryHost(ref)) {
    reporter.emit({ type: 'warning', message: `${ref} names no registry host: the daemon pushes it to its default registry (Docker Hub)` });
  }
  reporter.emit({ type: 'info', message: `Publishing ${ref}` });
  await engine.pushImage(ref);
  reporter.emit({ type: 'info', message: `Published ${ref}` });
}
