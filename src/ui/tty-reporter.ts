/**
 * The TTY renderer: the plain renderer's lines plus an ora spinner while kiln waits on something that
 * prints nothing (wait-start .. wait-end: image loads, layer tars). Every other line first clears the
 * spinner, is printed, and the spinner comes back, so output and spinner never tear each other.
 */
import ora, { type Ora } from 'ora';
import type { KilnEvent, Reporter } from '../ports.js';
import { createPlainReporter, type PlainReporterOptions } from './plain-reporter.js';
import { formatDuration } from './style.js';
import { PullDisplay } from './pull-lines.js';

export interface ClosableReporter extends Reporter {
  /** Stops a running spinner (before an error is printed, or at exit). */
  close(): void;
}

export function createTtyReporter(opts: PlainReporterOptions & { stream?: NodeJS.WriteStream } = {}): ClosableReporter {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? Date.now;
  const plain = createPlainReporter({ ...opts, out: stream });
  const waits = new Map<string, { message: string; started: number }>();
  let spinner: Ora | undefined;
  const pulls = new PullDisplay();

  const refresh = (): void => {
    const last = [...waits.values()].at(-1);
    if (pulls.active) {
      const text = pulls.text();
      if (spinner === undefined) spinner = ora({ text, stream, discardStdin: false }).start();
      else spinner.text = text;
      return;
    }
    if (last === undefined) {
      spinner?.stop();
      spinner = undefined;
      return;
    }
    const text = waits.size > 1 ? `${last.message} (+${waits.size - 1} more)` : last.message;
    if (spinner === undefined) spinner = ora({ text, stream, discardStdin: false }).start();
    else spinner.text = text;
  };

  return {
    emit(e: KilnEvent) {
      if (e.type === 'wait-start') {
        // A wait-start with an id already waiting updates its message (progress: upload-progress.ts).
        waits.set(e.id, { message: e.message, started: waits.get(e.id)?.started ?? now() });
        if (opts.quiet !== true) refresh();
        return;
      }
      if (e.type === 'wait-end') {
        const w = waits.get(e.id);
        waits.delete(e.id);
        if (opts.quiet !== true) {
          spinner?.clear();
          if (w !== undefined && opts.verbose === true) plain.emit({ type: 'debug', message: `${w.message} (${formatDuration(now() - w.started)})` });
          refresh();
        }
        return;
      }
      if (e.type === 'pull-progress') {
        pulls.progress(e);
        if (opts.quiet !== true) refresh();
        return;
      }
      if (e.type === 'pull-start') pulls.start(e.image);
      if (e.type === 'pull-end') {
        pulls.end(e.image);
        spinner?.clear();
        if (opts.quiet !== true) refresh();
      }
      if (spinner !== undefined) {
        spinner.clear();
        plain.emit(e);
        spinner.render();
      } else plain.emit(e);
      if (e.type === 'pull-start' && opts.quiet !== true) refresh();
    },
    close() {
      waits.clear();
      spinner?.stop();
      spinner = undefined;
    },
  };
}
