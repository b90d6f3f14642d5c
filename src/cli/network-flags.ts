/**
 * The network policy of a build's containers (docs/reliability.md "Dockerfile builds"): module containers
 * get `--network` (default none), Dockerfile RUN steps get `--extension-network none|host` (default none,
 * so apt-get in an extension needs an explicit `--extension-network host`). Host networking is refused,
 * whichever flag asks for it, when it would give a container a path to the daemon's API.
 */
import { ExitCode, KilnError } from '../errors.js';
import type { ExtensionNetwork } from '../lifecycle/extend/extend.js';

export const EXTENSION_NETWORK_FLAG = '--extension-network';
const EXTENSION_NETWORKS: readonly ExtensionNetwork[] = ['none', 'host'];

/** `--extension-network none|host`. */
export function parseExtensionNetwork(value: string): ExtensionNetwork {
  const found = EXTENSION_NETWORKS.find((n) => n === value);
  if (found === undefined) {
    throw new KilnError({
      action: 'read the build flags',
      cause: `${EXTENSION_NETWORK_FLAG} "${value}" must be none or host`,
      hint: `${EXTENSION_NETWORK_FLAG} host lets Dockerfile RUN steps reach a package mirror; none (the default) gives them no network`,
      exitCode: ExitCode.usage,
    });
  }
  return found;
}

/**
 * Throws (exit 3, naming the flag) when a flag asks for host networking and the daemon's API is reachable
 * from the daemon host's network (docker/api-exposure.ts). `flags`: flag name -> the network it asks for.
 */
export async function refuseExposedHostNetwork(flags: Record<string, string | undefined>, dockerHost: string | undefined = process.env.DOCKER_HOST): Promise<void> {
  const asking = Object.entries(flags).filter(([, v]) => v === 'host').map(([k]) => k);
  if (asking.length === 0) return;
  // Loaded when asked (it opens sockets; issue 21: start-up loads only the command-line shell).
  const { daemonApiExposure } = await import('../docker/api-exposure.js');
  const why = await daemonApiExposure(dockerHost);
  if (why === undefined) return;
  const named = asking.map((f) => `${f} host`).join(' and ');
  throw new KilnError({
    action: 'check the build network',
    cause: `${named} would give ${asking.includes(EXTENSION_NETWORK_FLAG) ? 'Dockerfile RUN steps (root)' : 'build containers'} a path to the Docker daemon's API: ${why}`,
    hint: `drop ${named} (bake the packages into the stack or builder image instead), or talk to the daemon over a unix socket only`,
    exitCode: ExitCode.usage,
  });
}
