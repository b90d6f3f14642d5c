/** `kiln buildpack package` and `kiln extension package` (digest 12.2): a module dir -> image or file. */
import type { Command } from 'commander';
import type { ContainerEngine } from '../../ports.js';
import type { ModuleKind } from '../../spec/models.js';
import { defaultEngine } from './builder-create.js';

function registerPackage(program: Command, kind: ModuleKind, getEngine: () => Promise<ContainerEngine>): void {
  program
    .command(kind)
    .description(`package ${kind}s`)
    .command('package <name>')
    .description(`package a ${kind} directory as an image in the daemon (or, with --format file, a .cnb file at <name>)`)
    .option('-p, --path <dir>', `directory holding ${kind}.toml`, '.')
    .option('-f, --format <format>', 'image or file', 'image')
    .action(async (name: string, opts: { path: string; format: string }) => {
      const { packageModule } = await import('../../app/package-module.js');
      const r = await packageModule(await getEngine(), { kind, dir: opts.path, target: name, file: opts.format === 'file' });
      process.stdout.write(`packaged ${r.id}@${r.version} as ${r.target} (${r.imageId})\n`);
    });
}

export function registerPackageCommands(program: Command, getEngine: () => Promise<ContainerEngine> = defaultEngine): void {
  registerPackage(program, 'buildpack', getEngine);
  registerPackage(program, 'extension', getEngine);
}
