/**
 * Registry credentials from the Docker CLI's config file, as `docker pull` would find them:
 * `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. For a registry host: its `credHelpers`
 * entry, else the `credsStore`, else its `auths` entry (`auth` = base64 "user:password", or
 * `username`/`password`, or `identitytoken`). Helpers are the `docker-credential-<name>` executables
 * on PATH, run with argv (`get`, the server address on stdin) — never through a shell. Nothing read
 * here is ever printed: errors name the file, the registry and the helper, not a value.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, KilnError } from '../errors.js';
import { DOCKER_HUB } from '../image/registry-host.js';
import type { RegistryAuth } from '../ports.js';

/** Docker keeps Docker Hub's credentials under this key. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

export interface CredentialSource {
  env?: NodeJS.ProcessEnv;
  home?: string;
  /** Runs `docker-credential-<name> get` with the server address on stdin (tests replace it). */
  runHelper?: (executable: string, serverAddress: string) => Promise<{ code: number; stdout: string }>;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface DockerConfigFile {
  auths: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers: Record<string, string>;
}

export function dockerConfigPath(src: CredentialSource = {}): string {
  const env = src.env ?? process.env;
  const dir = env.DOCKER_CONFIG !== undefined && env.DOCKER_CONFIG !== '' ? env.DOCKER_CONFIG : join(src.home ?? homedir(), '.docker');
  return join(dir, 'config.json');
}

function configError(file: string, cause: string, original?: unknown): KilnError {
  return new KilnError({ action: `read registry credentials from ${file}`, cause, hint: 'fix the Docker config file (docker login rewrites it), or point DOCKER_CONFIG at another directory', exitCode: ExitCode.config, subject: file, original });
}

async function readConfigFile(file: string): Promise<DockerConfigFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw configError(file, (e as Error).message, e);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's message may quote the file's text (a secret): only say where it is.
    throw configError(file, 'it is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw configError(file, 'it is not a JSON object');
  const o = parsed as Record<string, unknown>;
  const auths = typeof o.auths === 'object' && o.auths !== null ? (o.auths as Record<string, AuthEntry>) : {};
  const credHelpers = typeof o.credHelpers === 'object' && o.credHelpers !== null ? (o.credHelpers as Record<string, string>) : {};
  return { auths, credHelpers, ...(typeof o.credsStore === 'string' && o.credsStore !== '' ? { credsStore: o.credsStore } : {}) };
}

/** `https://host/v1/` and `host` name the same registry in `auths` keys. */
export function normaliseRegistryKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

/** The server address Docker gives helpers and the daemon for a registry host. */
export function serverAddressOf(host: string): string {
  return host === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : host;
}

function fromEntry(host: string, entry: AuthEntry, file: string): RegistryAuth | undefined {
  const serverAddress = serverAddressOf(host);
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') return { serverAddress, identityToken: entry.identitytoken };
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw configError(file, `the "auth" of ${host} is not base64 of user:password`);
    return { serverAddress, username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string') return { serverAddress, username: entry.username, password: entry.password };
  return undefined;
}

const defaultRunHelper = (executable: string, serverAddress: string): Promise<{ code: number; stdout: string }> =>
  new Promise((resolve, reject) => {
    const child = execFile(executable, ['get'], { timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT') reject(err);
      else resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout });
    });
    child.stdin?.end(serverAddress);
  });

async function fromHelper(host: string, helper: string, file: string, src: CredentialSource): Promise<RegistryAuth | undefined> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(helper)) throw configError(file, `credential helper name "${helper}" for ${host} is not a plain name`);
  const executable = `docker-credential-${helper}`;
  const serverAddress = serverAddressOf(host);
  let r: { code: number; stdout: string };
  try {
    r = await (src.runHelper ?? defaultRunHelper)(executable, serverAddress);
  } catch (e) {
    throw new KilnError({ action: `get credentials for ${host}`, cause: `${executable} (named in ${file}) could not be run: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, hint: `install ${executable} on PATH, or remove it from ${file}`, exitCode: ExitCode.config, subject: file, original: e });
  }
  if (r.code !== 0) {
    if (/credentials not found/i.test(r.stdout)) return undefined;
    throw new KilnError({ action: `get credentials for ${host}`, cause: `${executable} get exited with ${r.code}`, hint: `run \`echo ${serverAddress} | ${executable} get\` to see why, or log in again (docker login ${host})`, exitCode: ExitCode.config, subject: file });
  }
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(r.stdout) as typeof parsed;
  } catch {
    throw new KilnError({ action: `get credentials for ${host}`, cause: `${executable} get did not print JSON`, exitCode: ExitCode.config, subject: file });
  }
  if (typeof parsed.Secret !== 'string' || parsed.Secret === '') return undefined;
  if (parsed.Username === '<token>') return { serverAddress, identityToken: parsed.Secret };
  return { serverAddress, username: typeof parsed.Username === 'string' ? parsed.Username : '', password: parsed.Secret };
}

/** The credentials for a registry host (`registryHostOf(ref)`), or undefined when the config has none. */
export async function credentialsFor(host: string, src: CredentialSource = {}): Promise<RegistryAuth | undefined> {
  const file = dockerConfigPath(src);
  const config = await readConfigFile(file);
  if (config === undefined) return undefined;
  const helperKey = Object.keys(config.credHelpers).find((k) => normaliseRegistryKey(k) === host);
  const helper = helperKey !== undefined ? config.credHelpers[helperKey] : undefined;
  if (typeof helper === 'string' && helper !== '') return fromHelper(host, helper, file, src);
  if (config.credsStore !== undefined) {
    const stored = await fromHelper(host, config.credsStore, file, src);
    if (stored !== undefined) return stored;
  }
  const key = Object.keys(config.auths).find((k) => normaliseRegistryKey(k) === host);
  const entry = key !== undefined ? config.auths[key] : undefined;
  return entry !== undefined && typeof entry === 'object' ? fromEntry(host, entry, file) : undefined;
}
