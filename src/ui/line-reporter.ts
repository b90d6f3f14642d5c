/**
 * The event renderer of the short commands (builder create, stack create, rebase): plain lines on
 * stderr for info, warnings, pulls and phase ends; with `json`, every event as one JSON line on stderr
 * (json-reporter.ts), so `--json` carries pull-start / pull-progress / pull-end there too. Chosen by
 * command-output.ts, which holds the output policy of every command.
 */
import type { KilnEvent, Reporter } from '../ports.js';
import { createJsonReporter } from './json-reporter.js';
import { formatPullLines } from './pull-lines.js';
import { redacting } from './redact.js';
import { makeStyle } from './style.js';

export function createLineReporter(opts: { quiet: boolean; json?: boolean }): Reporter {
  if (opts.json === true) return redacting(createJsonReporter());
  return redacting({
    emit(e: KilnEvent): void {
      if (e.type === 'warning') process.stderr.write(`warning: ${e.message}\n`);
      else if (e.type === 'info' && !opts.quiet) process.stderr.write(`${e.message}\n`);
      else if (e.type === 'debug' && process.env.KILN_DEBUG) process.stderr.write(`${e.message}\n`);
      else if ((e.type === 'pull-start' || e.type === 'pull-end') && !opts.quiet) process.stderr.write(formatPullLines(e, makeStyle(false)).map((l) => `${l}\n`).join(''));
      else if (e.type === 'phase-end' && !opts.quiet) process.stderr.write(`${e.phase} done in ${(e.elapsedMs / 1000).toFixed(1)}s\n`);
    },
  });
}

/** The name the first version had (cli/commands/builder-create.ts). */
export const stderrReporter = createLineReporter;
