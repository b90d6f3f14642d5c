/**
 * Pull and push through the daemon's API with an X-Registry-Auth header (Docker Engine API: a
 * URL-safe base64 (padded) JSON of username/password/serveraddress or identitytoken; an empty `{}` when there are no
 * credentials). The header is built here and nowhere else, and never logged.
 */
import type Docker from 'dockerode';
import { ExitCode, KilnError } from '../errors.js';
import { registryHostOf } from '../image/registry-host.js';
import type { PullOptions, RegistryAuth } from '../ports.js';
import { dialStream, splitRef } from './image-ops.js';
import { followJsonStream, StreamError } from './json-stream.js';

export function registryAuthHeader(auth: RegistryAuth | undefined): string {
  const body: Record<string, string> = {};
  if (auth !== undefined) {
    body.serveraddress = auth.serverAddress;
    if (auth.identityToken !== undefined) body.identitytoken = auth.identityToken;
    else {
      if (auth.username !== undefined) body.username = auth.username;
      if (auth.password !== undefined) body.password = auth.password;
    }
  }
  // URL-safe alphabet WITH padding: the daemon's decoder (Go's base64.URLEncoding) rejects unpadded input.
  return Buffer.from(JSON.stringify(body)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** What to do next, from the daemon's reason for a failed pull. */
export function pullHint(reason: string, ref: string, authenticated: boolean): string {
  const registry = registryHostOf(ref);
  if (/unauthorized|authentication required|denied|no basic auth|401/i.test(reason)) {
    return authenticated
      ? `the credentials for ${registry} in your Docker config were refused: log in again (docker login ${registry}) or fix the credential helper`
      : `log in to ${registry} (docker login ${registry}, or a credential helper in your Docker config)`;
  }
  if (/not found|manifest unknown|does not exist/i.test(reason)) return `check the image name and tag, and that ${ref} was pushed to ${registry}`;
  if (/connection refused|no such host|timeout|i\/o timeout|network is unreachable|dial tcp/i.test(reason)) {
    return `check that ${registry} answers from the Docker daemon's host (network, proxy; a plain-HTTP registry must be on 127.0.0.1 or in the daemon's insecure-registries), or build offline with --pull-policy never and images already in the daemon`;
  }
  return `check that ${registry} answers and that you may pull ${ref}`;
}

export function pullFailed(ref: string, daemonReason: string, authenticated: boolean, original?: unknown): KilnError {
  // docker-modem prefixes the daemon's words with "(HTTP code 404) no such image - ".
  const reason = daemonReason.replace(/^\(HTTP code \d+\)[^-]*- /, '').trim();
  return new KilnError({
    action: `pull image ${ref}`,
    cause: `registry ${registryHostOf(ref)} answered: ${reason}`,
    hint: pullHint(reason, ref, authenticated),
    exitCode: ExitCode.missingImage,
    subject: ref,
    original,
  });
}

/** A reference with a digest is pulled by digest, else by tag (default latest). */
function pullQuery(ref: string): Record<string, string> {
  const at = ref.indexOf('@');
  if (at >= 0) return { fromImage: ref.slice(0, at), tag: ref.slice(at + 1) };
  const { repo, tag } = splitRef(ref);
  return { fromImage: repo, tag };
}

export async function pullImageStream(docker: Docker, ref: string, opts: PullOptions, daemonError: (e: unknown) => KilnError): Promise<void> {
  let stream;
  try {
    stream = await dialStream(docker, {
      path: '/images/create?',
      method: 'POST',
      options: { _query: pullQuery(ref) },
      headers: { 'X-Registry-Auth': registryAuthHeader(opts.auth) },
    });
  } catch (e) {
    const k = daemonError(e);
    // A daemon that does answer but refuses the pull (404, 401, 500): the registry's words.
    if (k.exitCode === ExitCode.daemon) throw k;
    throw pullFailed(ref, k.causeText, opts.auth !== undefined, e);
  }
  const onAbort = (): void => (stream as { destroy?: () => void }).destroy?.();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await followJsonStream(stream, (m) => {
      if (opts.onProgress === undefined || m.status === undefined) return;
      opts.onProgress({ layer: m.id ?? '', status: m.status, ...(m.progressDetail?.current !== undefined ? { current: m.progressDetail.current } : {}), ...(m.progressDetail?.total !== undefined ? { total: m.progressDetail.total } : {}) });
    });
  } catch (e) {
    if (opts.signal?.aborted === true) throw new KilnError({ action: `pull image ${ref}`, cause: 'the pull was interrupted', exitCode: ExitCode.interrupted, original: e, kind: 'interrupted' });
    if (e instanceof StreamError) throw pullFailed(ref, e.message, opts.auth !== undefined, e);
    throw daemonError(e);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
