/** `kiln buildpack package` and `kiln extension package` (distribution.md, "Buildpackage"): a module dir -> image or file. */
import type { Command } from 'commander';
import { checkImageRef } from '../../image/image-ref.js';
import type { CliContext } from '../context.js';
import type { ModuleKind } from '../../cnb/models.js';
import { PULL_POLICY_OPTION, pullPolicyOf } from '../pull-options.js';
import { readKilnConfig } from '../../config/kiln-config.js';

function registerPackage(program: Command, kind: ModuleKind, ctx: CliContext): void {
  program
    .command(kind)
    .description(`package ${kind}s`)
    .command('package <name>')
    .description(`package a ${kind} directory as an image in the daemon (or, with --format file, a .cnb file at <name>)`)
    .option('-p, --path <dir>', `directory holding ${kind}.toml`, '.')
    .option('-f, --format <format>', 'image or file', 'image')
    .option(...PULL_POLICY_OPTION)
    .action(async (name: string, opts: { path: string; format: string; pullPolicy?: string }) => {
      if (opts.format !== 'file') checkImageRef(name, `kiln ${kind} package <name>`);
      // A package is made from a directory only (no package.toml dependencies): the policy is checked, nothing is pulled.
      pullPolicyOf(opts, await readKilnConfig());
      const { packageModule } = await import('../../app/package-module.js');
      const r = await packageModule(await ctx.engine(), { kind, dir: opts.path, target: name, file: opts.format === 'file' });
      (await ctx.output({})).text(`packaged ${r.id}@${r.version} as ${r.target} (${r.imageId})\n`);
    });
}

export function registerPackageCommands(program: Command, ctx: CliContext): void {
  registerPackage(program, 'buildpack', ctx);
  registerPackage(program, 'extension', ctx);
}
