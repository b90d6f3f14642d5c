/**
 * Composition root: builds the commander program, picks the reporter, wires the Docker engine, and
 * turns every failure into one rendered error and an exit code (docs/architecture.md, "Conventions").
 */
import { Command, CommanderError } from 'commander';
import { ExitCode, isKilnError, toKilnError } from '../errors.js';
import { closeReporters, wantsJson } from '../ui/open-reporters.js';
import { redactedError } from '../ui/redact-error.js';
import { registerCommands } from './commands/index.js';

export const KILN_VERSION = '0.1.0';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('kiln')
    .description('Build OCI images from source with Cloud Native Buildpacks and image extensions, on the local Docker daemon.')
    .version(KILN_VERSION, '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through exitOverride with exit code 0.
      if (e.exitCode === 0) return ExitCode.ok;
      return ExitCode.usage;
    }
    // No secret in the one error either (URL credentials, ui/redact.ts).
    const err = redactedError(isKilnError(e) ? e : toKilnError(e, 'run kiln'));
    // Rendered once, here: a spinner is stopped first so the error is not torn by it.
    closeReporters();
    // The renderers load only when there is an error to render (issue 21: start-up).
    if (wantsJson(argv)) (await import('../ui/json-reporter.js')).renderErrorJson(err, { err: process.stderr, out: process.stdout });
    else {
      const [{ renderError }, { wantsColor }] = await Promise.all([import('../ui/render-error.js'), import('../ui/style.js')]);
      process.stderr.write(renderError(err, { color: wantsColor(process.stderr) }));
    }
    return err.exitCode;
  } finally {
    closeReporters();
  }
}
