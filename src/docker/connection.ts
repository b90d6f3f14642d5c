/**
 * Where the daemon is: DOCKER_HOST like the docker CLI (unix:// and tcp://, with DOCKER_TLS_VERIFY /
 * DOCKER_CERT_PATH for TLS), else /var/run/docker.sock. Resolved explicitly rather than left to
 * docker-modem so that error messages can name exactly what we tried to reach.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { ExitCode, KilnError } from '../errors.js';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

export interface DaemonTarget {
  options: Docker.DockerOptions;
  /** Human description for errors: "DOCKER_HOST=tcp://…" or "the socket /var/run/docker.sock". */
  description: string;
}

export function resolveDaemonTarget(host: string | undefined, env: NodeJS.ProcessEnv = process.env): DaemonTarget {
  const fromEnv = host === undefined && env.DOCKER_HOST !== undefined && env.DOCKER_HOST !== '';
  const value = host ?? (fromEnv ? env.DOCKER_HOST : undefined);
  if (value === undefined || value === '') {
    return { options: { socketPath: DEFAULT_SOCKET }, description: `the socket ${DEFAULT_SOCKET}` };
  }
  const description = fromEnv ? `DOCKER_HOST=${value}` : value;
  if (value.startsWith('unix://')) {
    const socketPath = value.slice('unix://'.length) || DEFAULT_SOCKET;
    return { options: { socketPath }, description };
  }
  if (value.startsWith('/')) return { options: { socketPath: value }, description };
  if (value.startsWith('tcp://') || value.startsWith('http://') || value.startsWith('https://')) {
    const url = new URL(value.replace(/^tcp:/, 'http:'));
    const tls = value.startsWith('https://') || (env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '');
    const options: Docker.DockerOptions = {
      host: url.hostname,
      port: url.port !== '' ? Number(url.port) : tls ? 2376 : 2375,
      protocol: tls ? 'https' : 'http',
    };
    if (tls) {
      const certDir = env.DOCKER_CERT_PATH ?? join(env.HOME ?? '', '.docker');
      try {
        options.ca = readFileSync(join(certDir, 'ca.pem'));
        options.cert = readFileSync(join(certDir, 'cert.pem'));
        options.key = readFileSync(join(certDir, 'key.pem'));
      } catch (e) {
        throw new KilnError({
          action: 'connect to the Docker daemon',
          cause: `${description} asks for TLS but the certificates in ${certDir} cannot be read`,
          hint: 'set DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem',
          exitCode: ExitCode.daemon,
          original: e,
        });
      }
    }
    return { options, description };
  }
  throw new KilnError({
    action: 'connect to the Docker daemon',
    cause: `${description} is not a unix:// or tcp:// address`,
    hint: 'set DOCKER_HOST to unix:///path/to/docker.sock or tcp://host:port',
    exitCode: ExitCode.daemon,
  });
}

/**
 * True when the daemon runs on this machine (a unix socket, or tcp to a loopback address), so a
 * `--volume` host path means the same file to kiln and to the daemon. Otherwise a bind source is a path
 * on the daemon's host, which kiln cannot look at.
 */
export function isLocalDaemon(host: string | undefined = process.env.DOCKER_HOST): boolean {
  if (host === undefined || host === '' || host.startsWith('unix://') || host.startsWith('/')) return true;
  try {
    const h = new URL(host.replace(/^tcp:/, 'http:')).hostname;
    return h === 'localhost' || h === '[::1]' || /^127\./.test(h);
  } catch {
    return false;
  }
}
