/**
 * Resource limits of module containers (bin/detect, bin/generate, bin/build) and of the RUN steps of
 * extension Dockerfiles (memory only: the build API has no pids limit), issue 14 point 7. Defaults are
 * generous for real builds and stop a fork bomb or a runaway allocation long before it hurts the host;
 * `--pids-limit N` / `--memory SIZE` (or KILN_PIDS_LIMIT / KILN_MEMORY) change them, 0 lifts a limit.
 */
import { KilnError } from '../../errors.js';
import type { ResourceLimits } from '../../ports.js';

export const DEFAULT_PIDS_LIMIT = 4096;
export const DEFAULT_MEMORY_BYTES = 4 * 1024 ** 3;

/** The limits a run gets: the defaults, overridden by what was asked; 0 means no limit. */
export function effectiveLimits(asked: ResourceLimits = {}): ResourceLimits {
  const pids = asked.pids ?? DEFAULT_PIDS_LIMIT;
  const memoryBytes = asked.memoryBytes ?? DEFAULT_MEMORY_BYTES;
  return { ...(pids > 0 ? { pids } : {}), ...(memoryBytes > 0 ? { memoryBytes } : {}) };
}

/** 4294967296 -> "4 GiB", 67108864 -> "64 MiB", 1000 -> "1000 bytes". */
export function formatBytes(n: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n >= size && n % (size / 16) === 0) return `${n / size} ${unit}`;
  }
  return `${n} bytes`;
}

/** The error for a module run that ended on one of its limits (RunResult.killed). */
export function moduleKilledError(what: string, killed: 'memory' | 'pids', limits: ResourceLimits, exitCode: number): KilnError {
  const cause =
    killed === 'memory'
      ? `killed: out of memory (its limit is ${limits.memoryBytes !== undefined ? formatBytes(limits.memoryBytes) : 'the daemon\'s'})`
      : `killed: pids limit reached (${limits.pids ?? '?'} processes and threads); nothing in it could fork any more`;
  const hint =
    killed === 'memory'
      ? 'if the module needs more, raise the limit with --memory SIZE (e.g. --memory 8g; 0 = no limit) or KILN_MEMORY'
      : 'look for a fork bomb or runaway parallelism in the module; if it needs more, raise the limit with --pids-limit N (0 = no limit) or KILN_PIDS_LIMIT';
  return new KilnError({ action: `run ${what}`, cause, hint, exitCode, kind: 'limit' });
}

/**
 * The classic builder reports a RUN step the kernel killed as "returned a non-zero code: 137" and
 * nothing more; with a memory limit set, that is almost always the limit. '' when it does not apply.
 */
export function dockerfileOomNote(cause: string, memoryBytes: number | undefined): string {
  if (memoryBytes === undefined || !/non-zero code: 137\b/.test(cause)) return '';
  return ` (likely killed: out of memory; each RUN step is limited to ${formatBytes(memoryBytes)})`;
}
