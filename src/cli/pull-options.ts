/**
 * `--pull-policy` for every command that needs images (build, builder create, rebase, buildpack and
 * extension package): the flag, else `kiln config pull-policy`, else if-not-present; and the
 * ImageFetcher that applies it with the Docker config's credentials.
 */
import type { ImageFetcher } from '../app/image-fetcher.js';
import { readKilnConfig, type KilnConfig } from '../config/kiln-config.js';
import type { ContainerEngine, Reporter } from '../ports.js';
import { DEFAULT_PULL_POLICY, parsePullPolicy, PULL_POLICIES, type PullPolicy } from '../registry/pull-policy.js';

export interface PullFlags {
  pullPolicy?: string;
}

/** `.option(...PULL_POLICY_OPTION)` on a command. */
export const PULL_POLICY_OPTION = ['--pull-policy <policy>', `when to pull the images the command needs: ${PULL_POLICIES.join(', ')} (default: kiln config pull-policy, else ${DEFAULT_PULL_POLICY})`] as const;

export function pullPolicyOf(flags: PullFlags, config: KilnConfig): PullPolicy {
  if (flags.pullPolicy !== undefined) return parsePullPolicy(flags.pullPolicy);
  return config.pullPolicy ?? DEFAULT_PULL_POLICY;
}

export async function fetcherFor(flags: PullFlags, engine: ContainerEngine, reporter: Reporter, signal?: AbortSignal, config?: KilnConfig): Promise<ImageFetcher> {
  const policy = pullPolicyOf(flags, config ?? (await readKilnConfig()));
  // Loaded when a command runs, not when its options are declared (issue 21: start-up).
  const [{ createImageFetcher }, { credentialsFor }] = await Promise.all([import('../app/image-fetcher.js'), import('../registry/docker-credentials.js')]);
  return createImageFetcher({ engine, reporter, policy, credentials: (host) => credentialsFor(host), ...(signal !== undefined ? { signal } : {}) });
}
