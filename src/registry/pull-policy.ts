/**
 * `--pull-policy` (issue 17): when kiln asks the daemon to pull an image a command needs.
 * `if-not-present` (the default) pulls only what the daemon lacks, so builds stay offline-first and
 * do not spend a registry's rate limit on every run; `always` pulls every time (picks up moved tags);
 * `never` uses only what the daemon has.
 */
import { ExitCode, KilnError } from '../errors.js';

export const PULL_POLICIES = ['always', 'if-not-present', 'never'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];
export const DEFAULT_PULL_POLICY: PullPolicy = 'if-not-present';

export function isPullPolicy(v: string): v is PullPolicy {
  return (PULL_POLICIES as readonly string[]).includes(v);
}

export function parsePullPolicy(value: string, where = '--pull-policy'): PullPolicy {
  if (isPullPolicy(value)) return value;
  throw new KilnError({ action: `read ${where}`, cause: `"${value}" is not a pull policy`, hint: `use one of ${PULL_POLICIES.join(', ')}`, exitCode: ExitCode.usage });
}
