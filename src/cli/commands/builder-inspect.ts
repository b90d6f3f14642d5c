/**
 * `kiln builder inspect <image> [--json]`: buildpacks, extensions, orders, run images, build image and
 * CNB user of a builder (issue 3). Data goes to stdout.
 */
import type { Command } from 'commander';
import { checkImageRef } from '../../image/image-ref.js';
import type { CliContext } from '../context.js';
import { registerBuilderCreate } from './builder-create.js';

export function registerBuilderInspect(builder: Command, ctx: CliContext): void {
  builder
    .command('inspect')
    .description('show what a builder image holds')
    .argument('<image>', 'the builder image', (v: string) => checkImageRef(v, 'kiln builder inspect <image>'))
    .option('--json', 'print JSON for tools instead of text')
    .action(async (image: string, opts: { json?: boolean }) => {
      const [{ inspectBuilder }, { formatBuilderSummary }] = await Promise.all([import('../../app/inspect-builder.js'), import('../../builder/builder-summary.js')]);
      const summary = await inspectBuilder(await ctx.engine(), image);
      (await ctx.output({ json: opts.json === true })).result(summary, () => formatBuilderSummary(summary));
    });
}

/** `kiln builder` with its subcommands. */
export function registerBuilderCommands(program: Command, ctx: CliContext): void {
  const builder = program.command('builder').description('create and inspect builder images');
  registerBuilderCreate(builder, ctx);
  registerBuilderInspect(builder, ctx);
}
