/**
 * Which registry an image reference points at, by Docker's rule: the part before the first `/` is a
 * registry host when it has a `.` or a `:` or is `localhost`; otherwise the image is on Docker Hub
 * (`docker.io`, whose credentials Docker keeps under `https://index.docker.io/v1/`).
 */
export const DOCKER_HUB = 'docker.io';

/** True when the reference names its registry host (`host:port/…`, `localhost/…`, `a.b/…`). */
export function hasRegistryHost(ref: string): boolean {
  const slash = ref.indexOf('/');
  if (slash < 0) return false;
  const first = ref.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost';
}

/** The registry host of a reference: `127.0.0.1:5000`, `ghcr.io`, or `docker.io`. */
export function registryHostOf(ref: string): string {
  if (!hasRegistryHost(ref)) return DOCKER_HUB;
  const host = ref.slice(0, ref.indexOf('/'));
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}
