/**
 * `--verbose` shows container specs and environments; values of variables whose names look secret
 * are replaced so logs can be shared.
 */
const SECRET_NAME = /(SECRET|TOKEN|PASSW(OR)?D|PASSPHRASE|CREDENTIAL|API_?KEY|PRIVATE|AUTH|_KEY$|^KEY$)/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export function redactEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, isSecretName(k) ? '<redacted>' : v]));
}

/** `K=V` entries (image ENV style), redacted by name. */
export function redactEnvList(env: readonly string[]): string[] {
  return env.map((kv) => {
    const i = kv.indexOf('=');
    return i > 0 && isSecretName(kv.slice(0, i)) ? `${kv.slice(0, i)}=<redacted>` : kv;
  });
}
