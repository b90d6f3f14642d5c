/**
 * Progress of a long copy into the daemon (the app source): nothing for a copy that ends within a
 * second; after that, every second a `wait-start` event with the same id and the counts so far (the TTY
 * renderer updates its spinner line, the plain one prints a line, --json has the events), then
 * `wait-end` and one info line with the totals.
 */
import type { Reporter } from '../../ports.js';
import type { PackProgress } from '../../image/tar-pack-stream.js';

const EVERY_MS = 1000;
let seq = 0;

function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

/** Starts reporting `progress` under `what`; the returned function stops it (ok: the copy succeeded). */
export function showProgress(reporter: Reporter, what: string, progress: PackProgress, now: () => number = Date.now): (ok: boolean) => void {
  const id = `progress-${++seq}`;
  const started = now();
  let shown = false;
  const timer = setInterval(() => {
    shown = true;
    reporter.emit({ type: 'wait-start', id, message: `${what}: ${progress.files} files, ${mib(progress.bytes)} MiB` });
  }, EVERY_MS);
  timer.unref();
  return (ok) => {
    clearInterval(timer);
    if (!shown) return;
    reporter.emit({ type: 'wait-end', id });
    if (ok) reporter.emit({ type: 'info', message: `${what}: ${progress.files} files, ${mib(progress.bytes)} MiB in ${((now() - started) / 1000).toFixed(1)} s` });
  };
}
