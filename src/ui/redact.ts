/**
 * `--verbose` shows container specs and environments; values of variables whose names look secret
 * are replaced so logs can be shared. Credentials written into a URL (`https://user:password@host`)
 * are secret whatever the variable is called: every output kiln writes (events, the result, the error)
 * passes through redactUrlCredentials (cli-output.ts, cli/main.ts).
 */
import type { KilnEvent } from '../ports.js';

const SECRET_NAME = /(SECRET|TOKEN|PASSW(OR)?D|PASSPHRASE|CREDENTIAL|API_?KEY|PRIVATE|AUTH|_KEY$|^KEY$)/i;

/** `scheme://userinfo@`: the userinfo (user, or user:password; a token is often the user) is secret. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"'<>]+)@/gi;

export const REDACTED = '<redacted>';

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** `https://user:pw@host/x` -> `https://<redacted>@host/x`, anywhere in `text`. */
export function redactUrlCredentials(text: string): string {
  return text.includes('://') ? text.replace(URL_CREDENTIALS, (_m, scheme: string, userinfo: string) => (userinfo === REDACTED ? `${scheme}${userinfo}@` : `${scheme}${REDACTED}@`)) : text;
}

/** Every string inside a JSON-like value (an event, a result) with URL credentials redacted. */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactUrlCredentials(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T;
  }
  return value;
}

export function redactEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, isSecretName(k) ? REDACTED : redactUrlCredentials(v)]));
}

/** `K=V` entries (image ENV style), redacted by name and URL credentials. */
export function redactEnvList(env: readonly string[]): string[] {
  return env.map((kv) => {
    const i = kv.indexOf('=');
    return i > 0 && isSecretName(kv.slice(0, i)) ? `${kv.slice(0, i)}=${REDACTED}` : redactUrlCredentials(kv);
  });
}

/** Every event a reporter is given has URL credentials redacted first; the reporter is kept. */
export function redacting<R extends { emit(e: KilnEvent): void }>(r: R): R {
  const emit = r.emit.bind(r);
  r.emit = (e) => emit(redactDeep(e));
  return r;
}
