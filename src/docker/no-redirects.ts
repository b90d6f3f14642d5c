/**
 * The daemon's answers are never followed elsewhere (issue 14). docker-modem sends its requests through
 * a follow-redirects copy (docker-modem/lib/http.js): on a 3xx with a Location it dials the new URL,
 * which for a unix-socket daemon means a TCP host named after a path segment. Replacing that copy's
 * request/get with Node's own hands the 3xx to the modem, which rejects any status the call does not
 * expect ("(HTTP code 301) unexpected"), so a redirect from the daemon is an error, never a new request.
 */
import nativeHttp from 'node:http';
import nativeHttps from 'node:https';
import { createRequire } from 'node:module';

interface RequestModule {
  request: (...args: unknown[]) => unknown;
  get: (...args: unknown[]) => unknown;
}

let done = false;

/** Idempotent; called before the first Docker client is made (docker-engine.ts). */
export function refuseDaemonRedirects(): void {
  if (done) return;
  // docker-modem as dockerode resolves it (it is dockerode's dependency, not ours).
  const fromDockerode = createRequire(createRequire(import.meta.url).resolve('dockerode'));
  const modemHttp = fromDockerode(fromDockerode.resolve('docker-modem/lib/http.js')) as Record<string, RequestModule | undefined>;
  for (const [name, native] of [['http', nativeHttp], ['https', nativeHttps]] as const) {
    const m = modemHttp[name];
    if (m === undefined) continue;
    m.request = (options: unknown, cb?: unknown) => native.request(options as nativeHttp.RequestOptions, cb as (res: nativeHttp.IncomingMessage) => void);
    m.get = (options: unknown, cb?: unknown) => native.get(options as nativeHttp.RequestOptions, cb as (res: nativeHttp.IncomingMessage) => void);
  }
  done = true;
}
