/**
 * `DOCKER_HOST=ssh://…` (issue 19 point 1): ONE ssh connection per kiln run (ssh2's Client, already a
 * dependency of dockerode), and every API call a channel over it (an idle one reused, see sshAgent),
 * handed to docker-modem through an http.Agent whose createConnection opens the channel. The channel goes straight to the daemon socket
 * on the remote (OpenSSH direct-streamlocal); when the server refuses that, to a
 * `docker system dial-stdio` exec (what the docker CLI runs). The connection is made on the first call;
 * its socket is unref'd whenever no channel is open, so an idle connection never keeps kiln alive.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import type { AnyAuthMethod, Client as SshClient, ClientChannel, ConnectConfig } from 'ssh2';
import { ExitCode, KilnError } from '../errors.js';
import type { SshEndpoint } from './ssh-endpoint.js';
import { promptAck, type PromptAck } from './ssh-prompt-ack.js';
import { blobKeyType, hostKeyAlgorithms, knownHostsName, knownKeysFor, verifyHostKey, type HostKeyVerdict, type KnownHostKey } from './ssh-known-hosts.js';

const require = createRequire(import.meta.url);
const SUPPORTED_HOST_KEYS = new Set(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
const READY_TIMEOUT_MS = 20_000;

function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function readKnownKeys(ep: SshEndpoint): KnownHostKey[] {
  const keys: KnownHostKey[] = [];
  for (const file of ep.knownHostsFiles) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    keys.push(...knownKeysFor(text, ep.host, ep.port));
  }
  return keys;
}

function readIdentities(ep: SshEndpoint): Buffer[] {
  const keys: Buffer[] = [];
  for (const file of ep.identityFiles) {
    try {
      keys.push(readFileSync(file));
    } catch {
      // A default identity that does not exist is simply not offered, as with ssh(1).
    }
  }
  return keys;
}

export function hostKeyError(ep: SshEndpoint, verdict: Exclude<HostKeyVerdict, 'known'>, presented: Buffer): KilnError {
  const name = knownHostsName(ep.host, ep.port);
  const scan = ep.port === 22 ? `ssh-keyscan ${ep.host}` : `ssh-keyscan -p ${ep.port} ${ep.host}`;
  const fp = `${blobKeyType(presented)} ${fingerprint(presented)}`;
  const files = ep.knownHostsFiles.join(', ');
  const texts = {
    unknown: {
      cause: `the host key of ${name} is unknown (it presented ${fp}; nothing for it in ${files})`,
      hint: `check that fingerprint with the host's owner, then add the key: \`${scan} >> ~/.ssh/known_hosts\` (or connect once with ssh and accept it)`,
    },
    changed: {
      cause: `the host key of ${name} has CHANGED: it presented ${fp}, which is not the key recorded in ${files} (someone may be intercepting the connection)`,
      hint: `if the host's key was really replaced, remove the old entry with \`ssh-keygen -R '${name}'\` and add the new one after checking its fingerprint`,
    },
    revoked: {
      cause: `the host key of ${name} (${fp}) is marked @revoked in ${files}`,
      hint: 'the host must get a new key; do not connect with this one',
    },
  }[verdict];
  return new KilnError({ action: `connect to the Docker daemon over ssh at ${ep.user}@${name}`, ...texts, exitCode: ExitCode.daemon, subject: name });
}

/** The error for a failed ssh connection or channel, naming the host and the remote socket. */
function sshError(ep: SshEndpoint, e: unknown, what: string): KilnError {
  const msg = e instanceof Error ? e.message : String(e);
  const level = (e as { level?: unknown }).level;
  const auth = level === 'client-authentication';
  return new KilnError({
    action: `connect to the Docker daemon over ssh at ${ep.user}@${knownHostsName(ep.host, ep.port)}`,
    cause: `${what}: ${msg}`,
    hint: auth
      ? `load a key accepted by ${ep.user}@${ep.host} into the ssh agent (SSH_AUTH_SOCK) or name it with IdentityFile in ~/.ssh/config (tried: ${ep.identityFiles.join(', ')}; encrypted keys need the agent)`
      : `check that \`ssh -p ${ep.port} ${ep.user}@${ep.host}\` works and that ${ep.remoteSocket} on that host is the daemon's socket (KILN_SSH_DOCKER_SOCKET names another path)`,
    exitCode: ExitCode.daemon,
    original: e,
  });
}

export interface SshSession {
  /** Opens one channel to the remote daemon (connecting first when needed). */
  channel(): Promise<Duplex>;
  /** Ends the connection. */
  close(): void;
}

export function createSshSession(ep: SshEndpoint): SshSession {
  let ready: Promise<SshClient> | undefined;
  let sock: Socket | undefined;
  let acks: PromptAck | undefined;
  let inUse = 0;
  let useExec = false;
  let forwarded = false; // a socket forward has worked on this connection
  const hold = (): void => {
    inUse++;
    sock?.ref();
  };
  const release = (): void => {
    inUse--;
    if (inUse === 0) sock?.unref();
  };

  function connect(): Promise<SshClient> {
    const { Client } = require('ssh2') as typeof import('ssh2');
    const known = readKnownKeys(ep);
    const algos = hostKeyAlgorithms(known)?.filter((a) => SUPPORTED_HOST_KEYS.has(a));
    let refused: KilnError | undefined;
    const auth: AnyAuthMethod[] = [];
    if (ep.agentSocket !== undefined && !ep.identitiesOnly) auth.push({ type: 'agent', username: ep.user, agent: ep.agentSocket });
    for (const key of readIdentities(ep)) auth.push({ type: 'publickey', username: ep.user, key });
    if (ep.agentSocket !== undefined && ep.identitiesOnly) auth.push({ type: 'agent', username: ep.user, agent: ep.agentSocket });
    return new Promise<SshClient>((resolve, reject) => {
      const client = new Client();
      sock = netConnect({ host: ep.host, port: ep.port });
      // Many small request/response exchanges: Nagle's algorithm would add a delayed-ACK wait to each.
      sock.setNoDelay(true);
      client.once('ready', () => {
        if (sock !== undefined) acks = promptAck(sock, client);
        client.removeAllListeners('error');
        client.on('error', () => {
          ready = undefined; // a later call reconnects
        });
        client.on('close', () => {
          ready = undefined;
        });
        resolve(client);
      });
      client.once('error', (e) => {
        sock?.destroy();
        reject(refused ?? sshError(ep, e, 'the ssh connection failed'));
      });
      client.connect({
        sock,
        username: ep.user,
        authHandler: auth.length > 0 ? (auth as ConnectConfig['authHandler']) : ['none'],
        readyTimeout: READY_TIMEOUT_MS,
        ...(algos !== undefined && algos.length > 0 ? { algorithms: { serverHostKey: algos as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] } } : {}),
        hostVerifier: (key: Buffer) => {
          const verdict = verifyHostKey(known, key);
          if (verdict !== 'known') refused = hostKeyError(ep, verdict, key);
          return verdict === 'known';
        },
      });
    });
  }

  function forward(client: SshClient): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      const done = (e: Error | undefined, ch: ClientChannel): void => (e !== undefined && e !== null ? reject(e) : resolve(ch));
      if (useExec) client.exec('docker system dial-stdio', done);
      else client.openssh_forwardOutStreamLocal(ep.remoteSocket, done);
    });
  }

  /** A new channel, falling back to dial-stdio when the server refuses the socket forward. */
  async function open(client: SshClient): Promise<ClientChannel> {
    let ch: ClientChannel;
    try {
      ch = await forward(client);
      acks?.track(ch);
      if (!useExec) forwarded = true;
    } catch (e) {
          // sshd answers a refused socket forward (AllowStreamLocalForwarding no) like a missing socket.
          // For the remote's default socket, the docker CLI's way is tried next: it reaches the remote
          // user's default daemon too. A socket named by KILN_SSH_DOCKER_SOCKET is never swapped.
      if (useExec || forwarded || !ep.remoteSocketIsDefault) throw e;
      useExec = true;
      try {
        ch = await forward(client);
        acks?.track(ch);
      } catch (e2) {
        useExec = false;
        throw sshError(ep, e2, `opening a channel to ${ep.remoteSocket} failed (${e instanceof Error ? e.message : String(e)}), and so did \`docker system dial-stdio\``);
      }
    }
    return ch;
  }

  // One channel opened ahead: a call that finds no idle channel takes it instead of waiting for a
  // channel to open (calls at the same time: a module run's attach, start and wait).
  let spare: Promise<ClientChannel | undefined> | undefined;
  const usable = (ch: ClientChannel | undefined): ch is ClientChannel => ch !== undefined && !ch.destroyed && ch.writable;

  return {
    async channel() {
      hold();
      try {
        ready ??= connect();
        const client = await ready;
        // Taken before any await: two calls at once never get the same channel.
        const taken = spare;
        spare = undefined;
        const ahead = await taken;
        const ch = usable(ahead) ? ahead : await open(client);
        spare = open(client).catch(() => undefined);
        // The agent keeps an idle channel for the next call and unrefs it: an idle channel does not
        // count as open, so it never keeps kiln alive either.
        let active = true;
        const idle = (): void => {
          if (active) {
            active = false;
            release();
          }
        };
        Object.assign(ch, {
          unref: () => (idle(), ch),
          ref: () => {
            if (!active) {
              active = true;
              hold();
            }
            return ch;
          },
        });
        ch.once('close', idle);
        return ch;
      } catch (e) {
        release();
        if (e instanceof KilnError) throw e;
        throw sshError(ep, e, `opening a channel to ${useExec ? '`docker system dial-stdio`' : ep.remoteSocket} failed`);
      }
    },
    close() {
      const r = ready;
      ready = undefined;
      void r?.then((c) => c.end()).catch(() => undefined);
    },
  };
}

/**
 * An http.Agent whose connections are channels of the session. Keep-alive: a channel that served a call
 * serves the next one (HTTP/1.1 keep-alive to the daemon), so a call costs no channel set-up; calls at
 * the same time get channels of their own.
 */
export function sshAgent(session: SshSession): Agent {
  const agent = new Agent({ keepAlive: true });
  const create = (_opts: unknown, cb: (err: Error | null, socket?: Duplex) => void): undefined => {
    session.channel().then(
      (ch) => {
        // http's ClientRequest may call these socket methods; a channel has no such options.
        const s = ch as unknown as Record<string, unknown>;
        for (const m of ['setTimeout', 'setNoDelay', 'setKeepAlive']) if (typeof s[m] !== 'function') s[m] = () => ch;
        cb(null, ch);
      },
      (e: Error) => cb(e),
    );
    return undefined;
  };
  (agent as unknown as { createConnection: typeof create }).createConnection = create;
  return agent;
}
