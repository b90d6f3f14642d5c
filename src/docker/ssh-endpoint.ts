/**
 * `ssh://[user@]host[:port]` -> everything needed to open the one ssh connection of a kiln run: the
 * real host name, port and user (the URL first, then ~/.ssh/config, then the defaults of ssh(1)), the
 * identity files, the known_hosts files, the agent socket and the daemon socket on the remote host.
 *
 * The remote socket: the docker CLI runs `docker system dial-stdio` on the remote, which reaches the
 * remote user's default daemon. kiln forwards a channel straight to the remote socket instead
 * (OpenSSH's direct-streamlocal, no process on the remote per call): /var/run/docker.sock unless
 * KILN_SSH_DOCKER_SOCKET names another path; when the server refuses socket forwarding, kiln falls
 * back to one `docker system dial-stdio` exec channel per call (ssh-transport.ts).
 */
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ExitCode, KilnError } from '../errors.js';
import { expandSshPath, sshSettingsFor } from './ssh-config.js';

export const DEFAULT_REMOTE_SOCKET = '/var/run/docker.sock';
const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export interface SshUrl {
  user?: string;
  host: string;
  port?: number;
}

export interface SshEndpoint {
  /** The host as written in DOCKER_HOST (for errors and known_hosts when HostName is not set). */
  alias: string;
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  identitiesOnly: boolean;
  knownHostsFiles: string[];
  agentSocket?: string;
  remoteSocket: string;
  /** True when remoteSocket is the default, not KILN_SSH_DOCKER_SOCKET. */
  remoteSocketIsDefault: boolean;
}

function badUrl(value: string, cause: string): KilnError {
  return new KilnError({
    action: 'connect to the Docker daemon',
    cause: `${value}: ${cause}`,
    hint: 'write DOCKER_HOST as ssh://[user@]host[:port]; set KILN_SSH_DOCKER_SOCKET for a daemon socket other than /var/run/docker.sock',
    exitCode: ExitCode.daemon,
  });
}

export function parseSshUrl(value: string): SshUrl {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badUrl(value, 'not a valid ssh:// address');
  }
  if (url.protocol !== 'ssh:' || url.hostname === '') throw badUrl(value, 'not a valid ssh:// address');
  if (url.password !== '') throw badUrl(value, 'a password in the address is not supported (use a key or the ssh agent)');
  if (url.pathname !== '' && url.pathname !== '/') throw badUrl(value, 'a path after the host is not supported');
  if (url.search !== '' || url.hash !== '') throw badUrl(value, 'a query or fragment is not supported');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    ...(url.username !== '' ? { user: decodeURIComponent(url.username) } : {}),
    ...(url.port !== '' ? { port: Number(url.port) } : {}),
  };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function resolveSshEndpoint(value: string, env: NodeJS.ProcessEnv): SshEndpoint {
  const url = parseSshUrl(value);
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir();
  const localUser = env.USER ?? userInfo().username;
  const config = sshSettingsFor(readText(join(home, '.ssh', 'config')), url.host);
  const host = config.hostName !== undefined ? config.hostName.replace(/%h/g, url.host) : url.host;
  const port = url.port ?? config.port ?? 22;
  const user = url.user ?? config.user ?? localUser;
  const tokens = { home, localUser, host, user, port };
  const identityFiles = (config.identityFiles.length > 0 ? config.identityFiles : DEFAULT_IDENTITIES.map((f) => join('~/.ssh', f))).map((f) => expandSshPath(f, tokens));
  const knownHostsFiles = (config.knownHostsFiles ?? ['~/.ssh/known_hosts', '~/.ssh/known_hosts2']).map((f) => expandSshPath(f, tokens));
  const agent = env.SSH_AUTH_SOCK;
  const socket = env.KILN_SSH_DOCKER_SOCKET;
  return {
    alias: url.host,
    host,
    port,
    user,
    identityFiles,
    identitiesOnly: config.identitiesOnly === true,
    knownHostsFiles,
    ...(agent !== undefined && agent !== '' ? { agentSocket: agent } : {}),
    remoteSocket: socket !== undefined && socket !== '' ? socket : DEFAULT_REMOTE_SOCKET,
    remoteSocketIsDefault: socket === undefined || socket === '',
  };
}
