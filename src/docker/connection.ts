/**
 * Where the daemon is, chosen as the docker CLI chooses: DOCKER_HOST (unix://, tcp:// with
 * DOCKER_TLS_VERIFY / DOCKER_CERT_PATH for TLS, ssh://), else the Docker context in effect
 * (DOCKER_CONTEXT or the config's currentContext, context-store.ts), else /var/run/docker.sock.
 * Resolved explicitly rather than left to docker-modem so that error messages can name exactly what we
 * tried to reach. README "Remote daemons".
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type Docker from 'dockerode';
import { ExitCode, KilnError } from '../errors.js';
import { resolveContext, type ContextEndpoint } from './context-store.js';
import { resolveSshEndpoint } from './ssh-endpoint.js';
import { createSshSession, sshAgent, type SshSession } from './ssh-transport.js';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

/** dockerode's options, plus the http(s).Agent docker-modem accepts (missing from its types). */
export type DaemonOptions = Docker.DockerOptions & { agent?: import('node:http').Agent };

export interface DaemonTarget {
  options: DaemonOptions;
  /** Human description for errors: "DOCKER_HOST=tcp://…" or "the socket /var/run/docker.sock". */
  description: string;
  /** The one ssh connection of a ssh:// target (made on the first call). */
  ssh?: SshSession;
}

/**
 * docker-modem fills in what our options leave out from DOCKER_HOST itself; every connection key is
 * set (undefined when unused) so that the target chosen here is the one used.
 */
function explicit(options: DaemonOptions): DaemonOptions {
  const keys = ['socketPath', 'host', 'port', 'protocol', 'ca', 'cert', 'key', 'agent'] as const;
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = (options as Record<string, unknown>)[k];
  // docker-modem formats every request's options with util.inspect (showHidden, no depth limit) even when
  // its debug output is off. Through an agent's open sockets that walks ssh2's whole client or a TLS
  // session: about 10 ms of CPU per API call over ssh. The agent describes itself in a word instead.
  if (options.agent !== undefined) Object.defineProperty(options.agent, inspect.custom, { value: () => `Agent(${options.agent?.constructor.name})` });
  return out as DaemonOptions;
}

function withExplicit(t: DaemonTarget): DaemonTarget {
  return { ...t, options: explicit(t.options) };
}

export function resolveDaemonTarget(host: string | undefined, env: NodeJS.ProcessEnv = process.env): DaemonTarget {
  return withExplicit(resolveTarget(host, env));
}

function resolveTarget(host: string | undefined, env: NodeJS.ProcessEnv): DaemonTarget {
  const fromEnv = host === undefined && env.DOCKER_HOST !== undefined && env.DOCKER_HOST !== '';
  const value = host ?? (fromEnv ? env.DOCKER_HOST : undefined);
  if (value === undefined || value === '') {
    const context = resolveContext(env);
    if (context !== undefined) return contextTarget(context, env);
    return { options: { socketPath: DEFAULT_SOCKET }, description: `the socket ${DEFAULT_SOCKET}` };
  }
  const description = fromEnv ? `DOCKER_HOST=${value}` : value;
  return hostTarget(value, description, env);
}

/** A context's endpoint: its host, with the context's own TLS material (not DOCKER_CERT_PATH). */
function contextTarget(context: ContextEndpoint, env: NodeJS.ProcessEnv): DaemonTarget {
  const description = `the Docker context "${context.name}" (${context.host}, from ${context.source})`;
  if (!/^(tcp|https?):\/\//.test(context.host)) return hostTarget(context.host, description, { ...env, DOCKER_TLS_VERIFY: '' });
  const plain = hostTarget(context.host, description, { ...env, DOCKER_TLS_VERIFY: '' });
  if (context.tls === undefined && !context.skipTlsVerify && !context.host.startsWith('https://')) return plain;
  const options: DaemonOptions = { ...plain.options, protocol: 'https' };
  if (context.host.startsWith('tcp://') && !/:\d+$/.test(new URL(context.host.replace(/^tcp:/, 'http:')).host)) options.port = 2376;
  const tls = context.tls ?? {};
  if (context.skipTlsVerify) {
    // SkipTLSVerify: the daemon's certificate is not checked (the context asked for it).
    options.agent = new HttpsAgent({ ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: false });
  } else {
    if (tls.ca !== undefined) options.ca = tls.ca;
    if (tls.cert !== undefined) options.cert = tls.cert;
    if (tls.key !== undefined) options.key = tls.key;
  }
  return { options, description };
}

function hostTarget(value: string, description: string, env: NodeJS.ProcessEnv): DaemonTarget {
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
  if (value.startsWith('ssh://')) {
    const ssh = createSshSession(resolveSshEndpoint(value, env));
    // The host name only fills the request line; every request goes through a channel of the session.
    return { options: { protocol: 'http', host: 'docker', port: 80, agent: sshAgent(ssh) }, description, ssh };
  }
  throw new KilnError({
    action: 'connect to the Docker daemon',
    cause: `${description} is not a unix://, tcp:// or ssh:// address`,
    hint: 'set DOCKER_HOST to unix:///path/to/docker.sock, tcp://host:port or ssh://[user@]host[:port]',
    exitCode: ExitCode.daemon,
  });
}

export { isLocalDaemon } from './daemon-locality.js';
