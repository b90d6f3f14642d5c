/**
 * Picks the renderer from the output flags and the terminal (architecture.md: ui/ renders KilnEvents):
 * --json > TTY (spinner, colour unless NO_COLOR) > plain. Reporters register here so cli/main.ts can
 * stop a spinner before it prints the one error.
 */
import type { Reporter } from '../ports.js';
import { createJsonReporter } from './json-reporter.js';
import { createPlainReporter } from './plain-reporter.js';
import { createTtyReporter } from './tty-reporter.js';
import { redactDeep } from './redact.js';
import { wantsColor } from './style.js';

export interface OutputFlags {
  json?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  timestamps?: boolean;
}

const open = new Set<{ close(): void }>();

/** Every event a reporter is given has URL credentials redacted first (redact.ts); the reporter is kept. */
export function redacting<R extends Reporter>(r: R): R {
  const emit = r.emit.bind(r);
  r.emit = (e) => emit(redactDeep(e));
  return r;
}

export function createCliReporter(flags: OutputFlags, stream: NodeJS.WriteStream = process.stderr): Reporter {
  return redacting(pickReporter(flags, stream));
}

function pickReporter(flags: OutputFlags, stream: NodeJS.WriteStream): Reporter {
  if (flags.json === true) return createJsonReporter();
  const base = { verbose: flags.verbose === true, quiet: flags.quiet === true, timestamps: flags.timestamps === true, color: wantsColor(stream) };
  // A terminal without a width (some pseudo-terminals) would make the spinner's line arithmetic loop.
  if (stream.isTTY === true && (stream.columns ?? 0) > 0) {
    const r = createTtyReporter({ ...base, stream });
    open.add(r);
    return r;
  }
  return createPlainReporter({ ...base, out: stream });
}

/** Stops every spinner (called before an error is rendered and when a command ends). */
export function closeReporters(): void {
  for (const r of open) r.close();
  open.clear();
}

/** Whether argv asks for JSON output (main.ts renders errors as JSON then). */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.includes('--json');
}
