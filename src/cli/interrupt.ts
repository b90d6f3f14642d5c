/**
 * The signals that interrupt a command: Ctrl-C (SIGINT), SIGTERM, and SIGHUP (the terminal closed),
 * which would otherwise end kiln at once, before its cleanup (issue 14 point 10). The first aborts the
 * command's AbortController; the command's own finally removes what it created, each daemon call of
 * that cleanup with a deadline (docker/call-deadline.ts). A second signal ends kiln AT ONCE (exit 130),
 * saying what may be left behind and how to remove it (issue 19 point 4); so does a watchdog when the
 * command has not ended long after its deadlines (docs/reliability.md "Interruption"). Returns the undo,
 * which the command calls once its cleanup is over.
 */
import { cleanupTimeoutMs } from '../cleanup-timeout.js';
import { ExitCode } from '../errors.js';
import { SESSION_LABEL } from '../cnb/labels.js';
import { writeFarewell } from '../ui/farewell.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export const LEFT_BEHIND =
  `containers, volumes and images of this run (label ${SESSION_LABEL}) may be left behind; once the daemon answers, remove them with \`kiln prune\``;

export interface InterruptOptions {
  /** Ends the process (tests replace it). */
  exit?: (code: number) => void;
  /** Where the farewell goes. */
  write?: (text: string) => void;
  /** How long after the first signal the watchdog ends kiln; default 3 cleanup deadlines + 5 s. */
  watchdogMs?: number;
}

export function abortOnSignals(abort: AbortController, opts: InterruptOptions = {}): () => void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const write = opts.write ?? writeFarewell;
  let watchdog: NodeJS.Timeout | undefined;
  const leave = (why: string): void => {
    write(`\nkiln: ${why}; exiting without finishing the cleanup: ${LEFT_BEHIND}\n`);
    exit(ExitCode.interrupted);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (abort.signal.aborted) {
      leave(`${signal} again`);
      return;
    }
    abort.abort();
    // Unref'd: it never keeps kiln alive, it only ends a kiln something still holds open.
    watchdog = setTimeout(() => leave('the cleanup did not finish'), opts.watchdogMs ?? 3 * cleanupTimeoutMs() + 5_000);
    watchdog.unref();
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  return () => {
    for (const s of SIGNALS) process.off(s, onSignal);
    if (watchdog !== undefined) clearTimeout(watchdog);
  };
}
