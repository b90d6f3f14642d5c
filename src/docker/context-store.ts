/**
 * Docker CLI contexts, read the way the docker CLI reads them: the context is `DOCKER_CONTEXT`, else the
 * Docker config's `currentContext` ($DOCKER_CONFIG/config.json, default ~/.docker/config.json);
 * "default" (or none) means no context. A context's endpoint is in
 * contexts/meta/<sha256 of its name>/meta.json (`Endpoints.docker.Host`, `SkipTLSVerify`) and its TLS
 * material in contexts/tls/<sha256 of its name>/docker/{ca,cert,key}.pem. DOCKER_HOST wins over any
 * context (connection.ts checks it first), as with the docker CLI.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, KilnError } from '../errors.js';

export interface ContextEndpoint {
  name: string;
  /** Where the name came from, for errors: "DOCKER_CONTEXT" or the config file's path. */
  source: string;
  host: string;
  skipTlsVerify: boolean;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

export function dockerConfigDir(env: NodeJS.ProcessEnv): string {
  if (env.DOCKER_CONFIG !== undefined && env.DOCKER_CONFIG !== '') return env.DOCKER_CONFIG;
  return join(env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir(), '.docker');
}

/** The context name in effect and where it came from; undefined for the default context. */
export function currentContextName(env: NodeJS.ProcessEnv): { name: string; source: string } | undefined {
  if (env.DOCKER_CONTEXT !== undefined && env.DOCKER_CONTEXT !== '') {
    return env.DOCKER_CONTEXT === 'default' ? undefined : { name: env.DOCKER_CONTEXT, source: 'DOCKER_CONTEXT' };
  }
  const file = join(dockerConfigDir(env), 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined; // no config file: the default context
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new KilnError({
      action: 'read the Docker config',
      cause: `${file} is not valid JSON`,
      hint: `fix or remove ${file}, or set DOCKER_HOST to choose the daemon`,
      exitCode: ExitCode.config,
      subject: file,
      original: e,
    });
  }
  const current = typeof parsed === 'object' && parsed !== null ? (parsed as { currentContext?: unknown }).currentContext : undefined;
  if (typeof current !== 'string' || current === '' || current === 'default') return undefined;
  return { name: current, source: file };
}

function readIfPresent(path: string): Buffer | undefined {
  return existsSync(path) ? readFileSync(path) : undefined;
}

/** The Docker endpoint of the context in effect; undefined when it is the default context. */
export function resolveContext(env: NodeJS.ProcessEnv): ContextEndpoint | undefined {
  const current = currentContextName(env);
  if (current === undefined) return undefined;
  const dir = dockerConfigDir(env);
  const id = createHash('sha256').update(current.name).digest('hex');
  const metaFile = join(dir, 'contexts', 'meta', id, 'meta.json');
  const fail = (cause: string, original?: unknown): KilnError =>
    new KilnError({
      action: `use the Docker context "${current.name}" (from ${current.source})`,
      cause,
      hint: 'list the contexts with `docker context ls`, choose one with DOCKER_CONTEXT or `docker context use`, or set DOCKER_HOST',
      exitCode: ExitCode.config,
      subject: current.name,
      original,
    });
  let meta: unknown;
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8'));
  } catch (e) {
    throw fail(existsSync(metaFile) ? `${metaFile} is not valid JSON` : `no such context (no ${metaFile})`, e);
  }
  const docker = (meta as { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } }).Endpoints?.docker;
  if (docker === undefined || typeof docker.Host !== 'string' || docker.Host === '') {
    throw fail(`${metaFile} has no Endpoints.docker.Host`);
  }
  const tlsDir = join(dir, 'contexts', 'tls', id, 'docker');
  const tls = { ca: readIfPresent(join(tlsDir, 'ca.pem')), cert: readIfPresent(join(tlsDir, 'cert.pem')), key: readIfPresent(join(tlsDir, 'key.pem')) };
  const hasTls = tls.ca !== undefined || tls.cert !== undefined || tls.key !== undefined;
  return {
    name: current.name,
    source: current.source,
    host: docker.Host,
    skipTlsVerify: docker.SkipTLSVerify === true,
    ...(hasTls ? { tls } : {}),
  };
}
