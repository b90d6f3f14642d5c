/**
 * Whether the daemon kiln talks to runs on this machine (a unix socket, or tcp to a loopback address),
 * apart from docker/connection.ts so that `kiln build`'s flag checks can ask it without loading the
 * ssh transport at start-up (issue 21).
 */
import { resolveContext } from './context-store.js';

/**
 * True when the daemon runs on this machine (a unix socket, or tcp to a loopback address), so a
 * `--volume` host path means the same file to kiln and to the daemon. Otherwise a bind source is a path
 * on the daemon's host, which kiln cannot look at.
 */
export function isLocalDaemon(host: string | undefined = process.env.DOCKER_HOST): boolean {
  if (host === undefined || host === '') {
    try {
      host = resolveContext(process.env)?.host;
    } catch {
      host = undefined; // a broken context fails later, where the daemon is reached
    }
  }
  if (host?.startsWith('ssh://') === true) return false;
  if (host === undefined || host === '' || host.startsWith('unix://') || host.startsWith('/')) return true;
  try {
    const h = new URL(host.replace(/^tcp:/, 'http:')).hostname;
    return h === 'localhost' || h === '[::1]' || /^127\./.test(h);
  } catch {
    return false;
  }
}
