/**
 * The one output policy of every kiln command (issue 16 point 3; docs/architecture.md, "Layers"):
 *
 * - stdout carries the command's result and nothing else: with `--json` one JSON document, otherwise
 *   the human text. `--quiet` does not hide it (it is what the command was asked for). `kiln build`
 *   shows its summary as its last event instead (the `result` event, summary.ts), and with --json
 *   json-reporter.ts prints the same document on stdout.
 * - stderr carries progress, warnings and the error: with `--json` one JSON event per line
 *   (json-reporter.ts); otherwise the progress renderer (`progress`: build, detect, prune; phase
 *   headers, module output, a spinner on a terminal; cli-output.ts) or the line renderer (`lines`:
 *   the other commands; line-reporter.ts). `--quiet` keeps warnings only.
 * - every string passes URL-credential redaction (redact.ts) on both streams.
 *
 * Commands get a CommandOutput from the composition root (cli/context.ts) and never write to the
 * terminal themselves.
 */
import type { Reporter } from '../ports.js';
import { createCliReporter, type OutputFlags } from './cli-output.js';
import { createLineReporter } from './line-reporter.js';
import { redactDeep, redactUrlCredentials } from './redact.js';
import type { Writable } from './plain-reporter.js';
import { makeStyle, wantsColor, type Style } from './style.js';

export type { OutputFlags } from './cli-output.js';

/** How progress events are shown without --json. */
export type EventStyle = 'progress' | 'lines';

export interface CommandOutput {
  /** Where the command's progress events go (stderr). */
  reporter: Reporter;
  /**
   * The command's result on stdout: `json` as a document with --json, else `human` (lines ending in
   * newlines; a function is told the style of stdout: colour only on a terminal without NO_COLOR).
   */
  result(json: unknown, human: string | ((style: Style) => string)): void;
  /** Human text on stdout whatever the flags (commands without --json: package, sbom, config). */
  text(human: string): void;
}

export interface CommandOutputOptions extends OutputFlags {
  style?: EventStyle;
  /** Where results go (default process.stdout); events always go to stderr. */
  out?: Writable;
}

export async function openCommandOutput(opts: CommandOutputOptions): Promise<CommandOutput> {
  const json = opts.json === true;
  const reporter = opts.style === 'progress' ? await createCliReporter(opts) : createLineReporter({ quiet: opts.quiet === true, json });
  const out = (): Writable => opts.out ?? process.stdout;
  const text = (human: string): void => {
    if (human !== '') out().write(redactUrlCredentials(human));
  };
  return {
    reporter,
    result(value, human) {
      if (json) out().write(`${JSON.stringify(redactDeep(value), null, 2)}\n`);
      else text(typeof human === 'function' ? human(makeStyle(opts.out === undefined && wantsColor(process.stdout))) : human);
    },
    text,
  };
}

/** Lines as stdout text: each ends in a newline. */
export function asLines(lines: readonly string[]): string {
  return lines.map((l) => `${l}\n`).join('');
}
