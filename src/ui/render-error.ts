import type { KilnError } from '../errors.js';

/** Renders an error once: `failed to <action>: <cause>`, a hint, and the exit code. */
export function renderError(err: KilnError, opts: { color: boolean }): string {
  const red = (s: string) => (opts.color ? `\u001b[31m${s}\u001b[39m` : s);
  const dim = (s: string) => (opts.color ? `\u001b[2m${s}\u001b[22m` : s);
  const lines = [red(`ERROR: failed to ${err.action}: ${err.causeText}`)];
  if (err.hint) lines.push(`hint: ${err.hint}`);
  lines.push(dim(`exit code ${err.exitCode}`));
  return lines.join('\n') + '\n';
}
