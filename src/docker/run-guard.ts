/**
 * What every process kiln runs in a container shares, whether it has a container of its own
 * (run-container.ts) or is an exec in a kept one (exec-container.ts): an abort or a time limit stops it
 * (the container is killed, under the cleanup deadline), and a process that ended on a limit or by a
 * signal gets a verdict (the pids limit, the OOM killer, a kill from outside: container-exit.ts).
 */
import { ExitCode, KilnError } from '../errors.js';
import type { RunResult } from '../ports.js';
import type { PidsWatch } from './container-exit.js';

export function interruptedError(what: string): KilnError {
  return new KilnError({
    action: `run ${what}`,
    cause: 'the run was interrupted; its container was killed and removed',
    exitCode: ExitCode.interrupted,
    kind: 'interrupted',
  });
}

export function timeoutError(what: string, ms: number): KilnError {
  return new KilnError({
    action: `run ${what}`,
    cause: `it did not finish within the limit of ${ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`}; its container was killed and removed`,
    hint: 'look for a module that waits for input or loops, or raise the time limit',
    exitCode: ExitCode.generic,
    kind: 'timeout',
  });
}

export interface RunGuard {
  /** Rejects with the error that stopped the run; race every wait against it. */
  readonly stopped: Promise<never>;
  /** That error, once the run was stopped. */
  error(): KilnError | undefined;
  /** The run is over: the timer and the abort listener go. */
  release(): void;
}

/** Stops the run (once) when `signal` aborts or `timeoutMs` passes, calling `kill`. */
export function guardRun(what: string, opts: { signal?: AbortSignal; timeoutMs?: number }, kill: () => Promise<unknown>): RunGuard {
  let stopError: KilnError | undefined;
  let rejectStopped: (e: KilnError) => void = () => undefined;
  const stopped = new Promise<never>((_, reject) => {
    rejectStopped = reject;
  });
  stopped.catch(() => undefined);
  const stop = (err: KilnError): void => {
    if (stopError !== undefined) return;
    stopError = err;
    rejectStopped(err);
    kill().catch(() => undefined);
  };
  const onAbort = (): void => stop(interruptedError(what));
  const timer = opts.timeoutMs !== undefined ? setTimeout(() => stop(timeoutError(what, opts.timeoutMs ?? 0)), opts.timeoutMs) : undefined;
  opts.signal?.addEventListener('abort', onAbort);
  return {
    stopped,
    error: () => stopError,
    release() {
      if (timer !== undefined) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * The verdict on a process that ended with `exitCode`: killed at the pids limit, else, when `examine`
 * is given (a failure the caller did not expect), what examining the death found; undefined: a plain exit.
 */
export async function limitVerdict(exitCode: number, pids: PidsWatch | undefined, examine?: () => Promise<'memory' | undefined>): Promise<RunResult['killed']> {
  pids?.stop();
  if (pids?.hit === true || (exitCode !== 0 && pids?.reached === true)) return 'pids';
  return examine !== undefined ? examine() : undefined;
}
