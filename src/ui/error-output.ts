/**
 * The one error of a run, written under the output policy (command-output.ts): with --json as the last
 * JSON event on stderr and an `ok: false` document on stdout (json-reporter.ts), otherwise rendered on
 * stderr (render-error.ts). cli/main.ts calls it once, after stopping any spinner.
 */
import type { KilnError } from '../errors.js';
import { renderErrorJson } from './json-reporter.js';
import { renderError } from './render-error.js';
import { wantsColor } from './style.js';

export function writeError(err: KilnError, opts: { json: boolean }): void {
  if (opts.json) renderErrorJson(err, { err: process.stderr, out: process.stdout });
  else process.stderr.write(renderError(err, { color: wantsColor(process.stderr) }));
}
