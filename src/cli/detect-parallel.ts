/**
 * `--detect-parallel N` of `kiln build` and `kiln detect` (issue 19 point 3): how many bin/detect
 * containers run at once (docs/architecture.md "The data flow of one build", step 5), with
 * KILN_DETECT_PARALLEL as the configured default; a flag wins over the variable. Default 4. 1 runs
 * them one at a time, for a daemon that copes badly with parallel containers (README "podman").
 */
import { ExitCode, KilnError } from '../errors.js';

export const DETECT_PARALLEL_HELP = 'how many bin/detect runs go at once (default 4; env KILN_DETECT_PARALLEL)';

export function parseDetectParallel(value: string, source = '--detect-parallel'): number {
  const v = value.trim();
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 64) {
    throw new KilnError({ action: 'read the detect parallelism', cause: `${source} "${value}" must be a whole number from 1 to 64`, hint: 'e.g. --detect-parallel 1 to run detects one at a time', exitCode: ExitCode.usage });
  }
  return Number(v);
}

/** The flag's value, else KILN_DETECT_PARALLEL's, else undefined (the lifecycle's default). */
export function detectParallelOf(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (flag !== undefined) return parseDetectParallel(flag);
  const fromEnv = env.KILN_DETECT_PARALLEL;
  return fromEnv !== undefined && fromEnv !== '' ? parseDetectParallel(fromEnv, 'KILN_DETECT_PARALLEL') : undefined;
}
