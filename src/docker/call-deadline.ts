/**
 * No hang, ever (issue 19 point 4, docs/reliability.md "Interruption"): the daemon calls a cleanup
 * makes — listing, removing and killing — each get a deadline, so a daemon that stops answering (frozen,
 * a dead ssh link) cannot keep kiln from finishing. The request is aborted (its socket closed) when the
 * deadline passes, and once one call has timed out the next ones get a short deadline until a call
 * answers again, so a whole cleanup against a silent daemon takes about one deadline, not one per
 * resource. KILN_CLEANUP_TIMEOUT (seconds, default 60) sets the deadline.
 */
import { cleanupTimeoutMs } from '../cleanup-timeout.js';
import { ExitCode, KilnError } from '../errors.js';

/** The deadline of each call while the daemon is known not to answer. */
const STALLED_MS = 1_000;

export interface CallDeadlines {
  /** Runs `fn` with a signal that aborts at the deadline; a timeout becomes a daemon error for `action`. */
  run<T>(action: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

export function callDeadlines(where: string, timeoutMs: number = cleanupTimeoutMs()): CallDeadlines {
  let stalled = false;
  return {
    async run(action, fn) {
      const ms = stalled ? Math.min(STALLED_MS, timeoutMs) : timeoutMs;
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), ms);
      try {
        const value = await fn(abort.signal);
        stalled = false;
        return value;
      } catch (e) {
        if (!abort.signal.aborted) throw e;
        stalled = true;
        throw new KilnError({
          action,
          cause: `the Docker daemon at ${where} did not answer within ${Math.round(ms / 100) / 10} s`,
          hint: 'once the daemon answers again, `kiln prune` removes what this run left behind (KILN_CLEANUP_TIMEOUT sets this deadline in seconds)',
          exitCode: ExitCode.daemon,
          original: e,
        });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
