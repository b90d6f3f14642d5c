/**
 * `--json`: every event as one JSON object per line on stderr (`{"time": "...", "type": ..., ...}`),
 * and the final result (the build summary, or the error) as one JSON document on stdout, so CI and
 * editors can stream progress from stderr and read the outcome from stdout. Documented in README.md.
 */
import type { KilnError } from '../errors.js';
import type { KilnEvent, Reporter } from '../ports.js';
import type { Writable } from './plain-reporter.js';

export interface JsonReporterOptions {
  err?: Writable;
  out?: Writable;
  now?: () => number;
}

export function createJsonReporter(opts: JsonReporterOptions = {}): Reporter {
  const err = opts.err ?? process.stderr;
  const out = opts.out ?? process.stdout;
  const now = opts.now ?? Date.now;
  return {
    emit(e: KilnEvent) {
      err.write(`${JSON.stringify({ time: new Date(now()).toISOString(), ...e })}\n`);
      if (e.type === 'result') out.write(`${JSON.stringify({ ok: true, ...e.result }, null, 2)}\n`);
    },
  };
}

/** The error as the last stderr event and as the stdout result (`ok: false`). */
export function renderErrorJson(error: KilnError, io: { err: Writable; out: Writable }, now: () => number = Date.now): void {
  const body = { action: error.action, cause: error.causeText, ...(error.hint !== undefined ? { hint: error.hint } : {}), exitCode: error.exitCode, message: error.message };
  io.err.write(`${JSON.stringify({ time: new Date(now()).toISOString(), type: 'error', ...body })}\n`);
  io.out.write(`${JSON.stringify({ ok: false, error: body }, null, 2)}\n`);
}
