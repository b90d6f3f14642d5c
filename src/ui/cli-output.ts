/**
 * Picks the renderer from the output flags and the terminal (docs/architecture.md, "Layers": ui/ renders KilnEvents):
 * --json > TTY (spinner, colour unless NO_COLOR) > plain. Reporters register here so cli/main.ts can
 * stop a spinner before it prints the one error.
 */
import type { Reporter } from '../ports.js';
import { createJsonReporter } from './json-reporter.js';
import { createPlainReporter } from './plain-reporter.js';
import { redacting } from './redact.js';
import { wantsColor } from './style.js';
import { registerOpenReporter } from './open-reporters.js';

export { closeReporters, wantsJson } from './open-reporters.js';
export { redacting } from './redact.js';

export interface OutputFlags {
  json?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  timestamps?: boolean;
}

/** Async so that the spinner (ora, tty-reporter.ts) is loaded only for a terminal (issue 21: start-up). */
export async function createCliReporter(flags: OutputFlags, stream: NodeJS.WriteStream = process.stderr): Promise<Reporter> {
  return redacting(await pickReporter(flags, stream));
}

async function pickReporter(flags: OutputFlags, stream: NodeJS.WriteStream): Promise<Reporter> {
  if (flags.json === true) return createJsonReporter();
  const base = { verbose: flags.verbose === true, quiet: flags.quiet === true, timestamps: flags.timestamps === true, color: wantsColor(stream) };
  // A terminal without a width (some pseudo-terminals) would make the spinner's line arithmetic loop.
  if (stream.isTTY === true && (stream.columns ?? 0) > 0) {
    const { createTtyReporter } = await import('./tty-reporter.js');
    const r = createTtyReporter({ ...base, stream });
    registerOpenReporter(r);
    return r;
  }
  return createPlainReporter({ ...base, out: stream });
}
