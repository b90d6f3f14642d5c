/**
 * `kiln builder create <image-name> --config <builder.toml>` (issue 3, platform.md, "Build Image").
 */
import type { Command } from 'commander';
import { checkImageRef } from '../../image/image-ref.js';
import type { CliContext } from '../context.js';
import { fetcherFor, PULL_POLICY_OPTION } from '../pull-options.js';

interface BuilderCreateOptions {
  config: string;
  pullPolicy?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerBuilderCreate(builder: Command, ctx: CliContext): void {
  builder
    .command('create')
    .description('create a builder image from a builder.toml, on top of its build image (no registry needed)')
    .argument('<image-name>', 'tag of the builder image to create', (v: string) => checkImageRef(v, 'kiln builder create <image-name>'))
    .requiredOption('-c, --config <path>', 'path of builder.toml')
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'print only warnings and errors')
    .option(...PULL_POLICY_OPTION)
    .action(async (imageName: string, opts: BuilderCreateOptions) => {
      const engine = await ctx.engine();
      const output = await ctx.output({ style: 'lines', quiet: opts.quiet === true, json: opts.json === true });
      const fetcher = await fetcherFor(opts, engine, output.reporter);
      const { createBuilder } = await import('../../app/create-builder.js');
      const result = await createBuilder(engine, { imageName, configPath: opts.config, kilnVersion: ctx.version, fetcher }, output.reporter);
      output.result({ image: result.imageName, id: result.imageId, warnings: result.warnings }, `created builder ${result.imageName} (${result.imageId})\n`);
    });
}
