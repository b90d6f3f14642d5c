/**
 * Maps what dockerode/docker-modem throw onto our error taxonomy (docs/architecture.md, "Conventions": one error taxonomy).
 * Connection failures become ONE daemon error naming DOCKER_HOST or the socket; 404s for images become
 * missing-image errors; anything else keeps the daemon's own message.
 */
import { ExitCode, KilnError, isKilnError } from '../errors.js';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH',
  'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENOTSOCK', 'EADDRNOTAVAIL',
]);

interface ModemErrorShape {
  code?: unknown;
  statusCode?: unknown;
  json?: unknown;
  reason?: unknown;
  message?: unknown;
}

function shape(e: unknown): ModemErrorShape {
  return typeof e === 'object' && e !== null ? (e as ModemErrorShape) : {};
}

/** The HTTP status of a daemon error response, if it was one. */
export function statusOf(e: unknown): number | undefined {
  const s = shape(e).statusCode;
  return typeof s === 'number' ? s : undefined;
}

export function isNotFound(e: unknown): boolean {
  return statusOf(e) === 404;
}

export function isConnectionError(e: unknown): boolean {
  const code = shape(e).code;
  return typeof code === 'string' && CONNECTION_CODES.has(code) && statusOf(e) === undefined;
}

/** The daemon's own message: `{"message": "..."}` of the response body when there is one. */
export function daemonMessage(e: unknown): string {
  const s = shape(e);
  const json = s.json;
  if (typeof json === 'object' && json !== null && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message;
  }
  if (typeof json === 'string' && json.trim() !== '') return json.trim();
  if (Buffer.isBuffer(json)) {
    const text = json.toString('utf8').trim();
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { message?: unknown }).message === 'string') {
        return (parsed as { message: string }).message;
      }
    } catch {
      // not JSON: fall through to the raw text
    }
    if (text !== '') return text;
  }
  if (typeof s.message === 'string') return s.message;
  return String(e);
}

export function daemonUnreachable(target: string, original: unknown): KilnError {
  const code = shape(original).code;
  const why = typeof code === 'string' ? ` (${code})` : '';
  return new KilnError({
    action: 'connect to the Docker daemon',
    cause: `no daemon answers at ${target}${why}`,
    hint: 'start one with scripts/ensure-docker.sh (dockerd --bridge=none --iptables=false) or point DOCKER_HOST at a running daemon',
    exitCode: ExitCode.daemon,
    original,
  });
}

export function missingImage(ref: string, action: string, original?: unknown): KilnError {
  return new KilnError({
    action,
    cause: `image ${ref} does not exist in the local daemon (nothing can be pulled)`,
    hint: `create or load ${ref} first (e.g. kiln stack create, docker load)`,
    exitCode: ExitCode.missingImage,
    subject: ref,
    original,
  });
}

/** Wraps any adapter failure: connection problems first, then the daemon's message for `action`. */
export function toDaemonError(e: unknown, action: string, target: string, exitCode: number = ExitCode.generic): KilnError {
  if (isKilnError(e)) return e;
  if (isConnectionError(e)) return daemonUnreachable(target, e);
  const status = statusOf(e);
  if (status !== undefined && status >= 300 && status < 400) {
    // no-redirects.ts: a redirect is never followed (it would leave the daemon's socket).
    return new KilnError({ action, cause: `the daemon at ${target} answered with a redirect (HTTP ${status}), which kiln does not follow`, hint: 'check the image reference or name in the command; kiln only talks to the daemon itself', exitCode, original: e });
  }
  return new KilnError({ action, cause: daemonMessage(e), exitCode, original: e });
}
