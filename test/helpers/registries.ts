/**
 * The test registries (scripts/registries.sh): Debian's docker-registry on 127.0.0.1, one plain and one
 * with htpasswd basic auth. `startRegistries` starts whichever does not answer yet (.ci/run has usually
 * started both) and `stopRegistries` stops only the ones that call started, by pid.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const script = join(import.meta.dirname, '../../scripts/registries.sh');

export const registryEnv = {
  ...process.env,
  KILN_REGISTRY_PLAIN_PORT: process.env.KILN_REGISTRY_PLAIN_PORT ?? '5171',
  KILN_REGISTRY_AUTH_PORT: process.env.KILN_REGISTRY_AUTH_PORT ?? '5172',
};
export const PLAIN_REGISTRY = `127.0.0.1:${registryEnv.KILN_REGISTRY_PLAIN_PORT}`;
export const AUTH_REGISTRY = `127.0.0.1:${registryEnv.KILN_REGISTRY_AUTH_PORT}`;

export interface StartedRegistries {
  /** Pids this call started (empty when both already answered). */
  pids: string[];
  /** KILN_REGISTRY_* lines the script printed (user, password file, ...). */
  vars: Record<string, string>;
}

export async function startRegistries(): Promise<StartedRegistries> {
  const started = await run('bash', [script, 'start'], { env: registryEnv, timeout: 300_000 });
  const vars = Object.fromEntries(
    started.stdout
      .split('\n')
      .filter((l) => l.startsWith('KILN_REGISTRY_'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { pids: (vars.KILN_REGISTRY_STARTED_PIDS ?? '').split(' ').filter((p) => /^\d+$/.test(p)), vars };
}

export async function stopRegistries(pids: readonly string[]): Promise<void> {
  if (pids.length > 0) await run('bash', [script, 'stop', ...pids], { env: registryEnv });
}
