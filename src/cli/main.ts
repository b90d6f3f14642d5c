/**
 * Composition root: builds the engine, output, clock and ids once (context.ts) and hands them to every
 * command, builds the commander program, and turns every failure into one rendered error and an exit
 * code (docs/architecture.md, "Conventions").
 */
import { Command, CommanderError } from 'commander';
import { ExitCode, isKilnError, toKilnError } from '../errors.js';
import { closeReporters, wantsJson } from '../ui/open-reporters.js';
import { redactedError } from '../ui/redact-error.js';
import { registerCommands } from './commands/index.js';
import { createCliContext, type CliContext } from './context.js';
import { KILN_VERSION } from './version.js';

export { KILN_VERSION };

/** Columns of every help text. */
export const HELP_WIDTH = 100;

export function buildProgram(ctx: CliContext = createCliContext()): Command {
  const program = new Command();
  program
    .name('kiln')
    .description('Build OCI images from source with Cloud Native Buildpacks and image extensions, on the local Docker daemon.')
    .version(KILN_VERSION, '-V, --version')
    .showHelpAfterError()
    // One width on a terminal and in a pipe: the top-level help is the same text everywhere, so the
    // build can keep it ready for bin/kiln.js (scripts/top-level-help.mjs; issue 21: start-up).
    .configureHelp({ helpWidth: HELP_WIDTH })
    .exitOverride();
  registerCommands(program, ctx);
  return program;
}

export async function main(argv: string[], ctx: CliContext = createCliContext()): Promise<number> {
  const program = buildProgram(ctx);
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
    (await import('../ui/error-output.js')).writeError(err, { json: wantsJson(argv) });
    return err.exitCode;
  } finally {
    closeReporters();
  }
}
