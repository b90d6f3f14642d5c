/**
 * `kiln buildpack package` and `kiln extension package` (distribution.md, "Buildpackage"): a module
 * directory (--path) or a package.toml (--config: the module's uri and its [[dependencies]]) -> a
 * package image in the daemon, or with --format file a .cnb file. docker:// uris are pulled under
 * --pull-policy.
 */
import { extname } from 'node:path';
import type { Command } from 'commander';
import { ExitCode, KilnError } from '../../errors.js';
import { checkImageRef } from '../../image/image-ref.js';
import type { CliContext } from '../context.js';
import type { ModuleKind } from '../../cnb/models.js';
import type { PackageTarget } from '../../app/package-module.js';
import { labelsFromEnv } from './build.js';
import { fetcherFor, PULL_POLICY_OPTION } from '../pull-options.js';

interface PackageFlags {
  path?: string;
  config?: string;
  format: string;
  target?: string[];
  pullPolicy?: string;
  quiet?: boolean;
}

const usage = (flag: string, cause: string, hint: string): KilnError => new KilnError({ action: `read ${flag}`, cause, hint, exitCode: ExitCode.usage });

/** `--target os[/arch[/variant]]` (pack's form without the distro part); kiln packages linux modules. */
export function parsePackageTarget(values: readonly string[] | undefined): PackageTarget | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const hint = 'give one --target as os/arch or os/arch/variant, e.g. linux/amd64 or linux/arm64/v8';
  if (values.length > 1) throw usage('--target', `${values.length} targets given; kiln writes one package image per run`, hint);
  const value = values[0] ?? '';
  if (value.includes(':')) throw usage('--target', `"${value}" names a distribution; kiln's packages do not record one`, hint);
  const [os = '', arch = 'amd64', variant, ...more] = value.split('/');
  if (more.length > 0 || !/^[a-z0-9]+$/.test(os) || !/^[a-z0-9_]+$/.test(arch) || (variant !== undefined && !/^[a-z0-9]+$/.test(variant))) {
    throw usage('--target', `"${value}" is not os/arch/variant`, hint);
  }
  if (os !== 'linux') throw usage('--target', `os "${os}" is not supported: kiln packages linux modules`, hint);
  return { os, arch, ...(variant !== undefined ? { variant } : {}) };
}

function registerPackage(program: Command, kind: ModuleKind, ctx: CliContext): void {
  program
    .command(kind)
    .description(`package ${kind}s`)
    .command('package <name>')
    .description(`package a ${kind} (a directory, or a package.toml with its dependencies) as an image in the daemon, or with --format file a .cnb file at <name>`)
    .option('-c, --config <path>', `package.toml: [${kind}] uri${kind === 'buildpack' ? ' and [[dependencies]] uris' : ''} (directories, .tgz, .cnb, docker://<image>)`)
    .option('-p, --path <dir>', `directory holding ${kind}.toml, without --config (default: .)`)
    .option('-f, --format <format>', 'image (loaded into the daemon) or file (a .cnb file)', 'image')
    .option('--target <os/arch[/variant]>', 'platform of the package image (default: linux/amd64)', (v: string, prev: string[] = []) => [...prev, v])
    .option('-q, --quiet', 'print only warnings and errors')
    .option(...PULL_POLICY_OPTION)
    .action(async (name: string, opts: PackageFlags) => {
      if (opts.format !== 'image' && opts.format !== 'file') throw usage('--format', `"${opts.format}" is not a format`, 'use --format image or --format file');
      if (opts.format === 'image') checkImageRef(name, `kiln ${kind} package <name>`);
      if (opts.config !== undefined && opts.path !== undefined) throw usage('--path', '--path and --config both name the module', `name the module's directory as [${kind}] uri in package.toml, or drop --config`);
      const platform = parsePackageTarget(opts.target);
      const engine = await ctx.engine();
      const output = await ctx.output({ quiet: opts.quiet === true });
      const reporter = output.reporter;
      // A package file is a .cnb (distribution.md, "Buildpackage"): added when the name has no extension, as pack does.
      const ext = extname(name);
      if (opts.format === 'file' && ext === '') name = `${name}.cnb`;
      else if (opts.format === 'file' && ext.toLowerCase() !== '.cnb') reporter.emit({ type: 'warning', message: `${name}: package files are .cnb files; builder.toml reads a package file by that extension` });
      const fetcher = await fetcherFor(opts, engine, reporter);
      const { packageModule } = await import('../../app/package-module.js');
      const r = await packageModule(engine, {
        kind,
        target: name,
        file: opts.format === 'file',
        fetcher,
        reporter,
        ...(opts.config !== undefined ? { config: opts.config } : { dir: opts.path ?? '.' }),
        ...(platform !== undefined ? { platform } : {}),
        ...(process.env.KILN_LABELS !== undefined ? { labels: labelsFromEnv(process.env.KILN_LABELS) } : {}),
      });
      const deps = r.modules.length > 1 ? ` with ${r.modules.filter((m) => m !== `${r.id}@${r.version}`).join(', ')}` : '';
      output.text(`packaged ${r.id}@${r.version}${deps} as ${r.target} (${r.imageId})\n`);
    });
}

export function registerPackageCommands(program: Command, ctx: CliContext): void {
  registerPackage(program, 'buildpack', ctx);
  registerPackage(program, 'extension', ctx);
}
