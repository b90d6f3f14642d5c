/**
 * Would a process on the daemon host's network reach the Docker API? A container with host networking
 * (Dockerfile RUN steps with `--extension-network host`, module containers with `--network host`)
 * shares the network of the daemon's machine, so it reaches every address the daemon listens on there;
 * an unauthenticated API is root on that host (docs/reliability.md "Dockerfile builds").
 *
 * - DOCKER_HOST is tcp:// (or http(s)://): the daemon listens on TCP on its machine, at an address that
 *   machine reaches; kiln cannot know whether a RUN step could use it, so host networking is refused.
 * - Otherwise kiln talks to a unix socket, so the daemon runs on this machine: the conventional API
 *   ports (2375 plain, 2376 TLS) on loopback are probed, as a host-network container would see them; an
 *   answer carrying Docker's `Api-Version` header without a client certificate means exposed. Other ports
 *   are not probed (a daemon on an unusual TCP port next to its socket is not detected).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface ProbeTarget {
  host: string;
  port: number;
  tls: boolean;
}

/** The conventional Docker API ports on IPv4 and IPv6 loopback. */
export const DEFAULT_PROBES: readonly ProbeTarget[] = [
  { host: '127.0.0.1', port: 2375, tls: false },
  { host: '::1', port: 2375, tls: false },
  { host: '127.0.0.1', port: 2376, tls: true },
  { host: '::1', port: 2376, tls: true },
];

/** True when the target answers GET /_ping like a Docker daemon (an `Api-Version` header). */
export function answersLikeDocker(target: ProbeTarget, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = '';
    const ask = (): void => void socket.write(`GET /_ping HTTP/1.0\r\nHost: ${target.host.includes(':') ? `[${target.host}]` : target.host}\r\n\r\n`);
    // No client certificate: a daemon that asks for one (tlsverify) is not open to a RUN step either.
    const socket: Socket = target.tls ? tlsConnect({ host: target.host, port: target.port, rejectUnauthorized: false }, ask) : netConnect({ host: target.host, port: target.port }, ask);
    const done = (v: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      const end = answer.indexOf('\r\n\r\n');
      if (end >= 0 || answer.length > 16 * 1024) done(/^api-version:/im.test(end >= 0 ? answer.slice(0, end) : answer));
    });
    socket.on('error', () => done(false));
    socket.on('end', () => done(/^api-version:/im.test(answer)));
  });
}

/**
 * Why host networking would reach the daemon's API, or undefined when kiln finds no such path.
 * `dockerHost` is the DOCKER_HOST value ('' or undefined: the default socket).
 */
export async function daemonApiExposure(dockerHost: string | undefined, probes: readonly ProbeTarget[] = DEFAULT_PROBES): Promise<string | undefined> {
  if (dockerHost !== undefined && /^(tcp|https?):\/\//.test(dockerHost)) {
    return `the Docker daemon is reached over TCP (DOCKER_HOST=${dockerHost}): a host-network container on the daemon's machine reaches that API too`;
  }
  const answers = await Promise.all(probes.map(async (p) => ((await answersLikeDocker(p)) ? p : undefined)));
  const open = answers.find((p) => p !== undefined);
  if (open === undefined) return undefined;
  const host = open.host.includes(':') ? `[${open.host}]` : open.host;
  return `a Docker API answers on ${host}:${open.port}${open.tls ? ' (TLS without a client certificate)' : ''}, which a host-network container reaches`;
}
