/**
 * `--pids-limit N` and `--memory SIZE` of `kiln build` and `kiln detect` (issue 14 point 7), with
 * KILN_PIDS_LIMIT / KILN_MEMORY as the configured default; a flag wins over the variable, and 0 lifts
 * the limit. Defaults when neither is given: lifecycle/container/module-limits.ts.
 */
import { ExitCode, KilnError } from '../errors.js';
import type { ResourceLimits } from '../ports.js';

export interface LimitFlags {
  pidsLimit?: string;
  memory?: string;
}

function bad(source: string, value: string, rule: string): KilnError {
  return new KilnError({ action: 'read the resource limits', cause: `${source} "${value}" ${rule}`, hint: 'e.g. --pids-limit 8192 --memory 8g; 0 means no limit', exitCode: ExitCode.usage });
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "512m", "4g", "1.5g", "4GiB", "1048576" (bytes) -> bytes; 0 is "no limit". */
export function parseMemory(value: string, source = '--memory'): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(value.trim());
  const unit = UNITS[(m?.[2] ?? '').toLowerCase()];
  if (m?.[1] === undefined || unit === undefined) throw bad(source, value, 'must be a size such as 512m or 4g (bytes without a unit)');
  const bytes = Math.round(Number(m[1]) * unit);
  // The daemon refuses memory limits below 6 MiB.
  if (bytes !== 0 && bytes < 6 * 1024 ** 2) throw bad(source, value, 'is below the smallest limit the daemon accepts (6m)');
  return bytes;
}

/** A whole number of processes and threads; 0 is "no limit". */
export function parsePidsLimit(value: string, source = '--pids-limit'): number {
  if (!/^\d+$/.test(value.trim())) throw bad(source, value, 'must be a whole number of processes');
  const n = Number(value.trim());
  if (n !== 0 && n < 16) throw bad(source, value, 'is too small for a module to start (at least 16)');
  return n;
}

/** The limits asked for by flags, else by KILN_PIDS_LIMIT / KILN_MEMORY; unset ones take the defaults. */
export function limitsOf(flags: LimitFlags, env: NodeJS.ProcessEnv = process.env): ResourceLimits {
  const pids = flags.pidsLimit !== undefined ? parsePidsLimit(flags.pidsLimit) : env.KILN_PIDS_LIMIT ? parsePidsLimit(env.KILN_PIDS_LIMIT, 'KILN_PIDS_LIMIT') : undefined;
  const memory = flags.memory !== undefined ? parseMemory(flags.memory) : env.KILN_MEMORY ? parseMemory(env.KILN_MEMORY, 'KILN_MEMORY') : undefined;
  return { ...(pids !== undefined ? { pids } : {}), ...(memory !== undefined ? { memoryBytes: memory } : {}) };
}

export const PIDS_LIMIT_HELP = 'most processes and threads one buildpack or extension run may have (default 4096; 0 = no limit; env KILN_PIDS_LIMIT)';
export const MEMORY_HELP = 'memory limit of each buildpack or extension run and Dockerfile RUN step, e.g. 8g (default 4g; 0 = no limit; env KILN_MEMORY)';
