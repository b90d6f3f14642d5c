/**
 * The authors' commands under `kiln buildpack` and `kiln extension` (README, "For buildpack and
 * extension authors"): `new` scaffolds a working module, `lint` checks one. Neither needs a daemon.
 */
import type { Command } from 'commander';
import { ExitCode, KilnError } from '../../errors.js';
import type { ModuleKind } from '../../cnb/models.js';
import type { CliContext } from '../context.js';
import { checkImageRef } from '../../image/image-ref.js';
import { PULL_POLICY_OPTION } from '../pull-options.js';
import { labelsFromEnv } from './build.js';
import { collect } from '../repeatable.js';

/** The `buildpack` / `extension` parent command, shared with `package` (package.ts). */
function parentOf(program: Command, kind: ModuleKind): Command {
  return program.commands.find((c) => c.name() === kind) ?? program.command(kind).description(`work with ${kind}s`);
}

interface NewFlags {
  path?: string;
  version: string;
  targets: string[];
  kind?: string;
  json?: boolean;
}

function registerNew(program: Command, ctx: CliContext, kind: ModuleKind): void {
  const cmd = parentOf(program, kind)
    .command('new <id>')
    .description(`create a working ${kind} (descriptor, bin/ scripts, README) in a new directory`)
    .option('-p, --path <dir>', 'directory to create (default: the last part of the id)')
    .option('-V, --version <version>', `version of the ${kind}`, '0.0.1')
    .option('-t, --targets <os[/arch[/variant]]>', 'a target it runs on; repeat for more (default: linux)', collect, [])
    .option('--json', 'print the result as JSON on stdout');
  if (kind === 'extension') cmd.option('--kind <build|run|both>', 'which Dockerfiles bin/generate writes', 'both');
  cmd.action(async (id: string, flags: NewFlags) => {
    const [{ newModule }, { parseScaffoldTarget, shortName }, { newModuleJson, newModuleHuman }] = await Promise.all([
      import('../../app/new-module.js'),
      import('../../cnb/module-templates.js'),
      import('../../ui/lint-report.js'),
    ]);
    const extensionKind = flags.kind ?? 'both';
    if (extensionKind !== 'build' && extensionKind !== 'run' && extensionKind !== 'both') {
      throw new KilnError({ action: `create ${kind} ${id}`, cause: `--kind ${extensionKind} is not build, run or both`, exitCode: ExitCode.usage, subject: '--kind' });
    }
    const targets = (flags.targets.length > 0 ? flags.targets : ['linux']).map((t) => {
      const parsed = parseScaffoldTarget(t);
      if (parsed === undefined) throw new KilnError({ action: `create ${kind} ${id}`, cause: `--targets ${t} is not os[/arch[/variant]]`, hint: 'e.g. --targets linux/amd64', exitCode: ExitCode.usage, subject: '--targets' });
      return parsed;
    });
    const r = await newModule({ kind, id, dir: flags.path ?? shortName(id), version: flags.version, targets, extensionKind });
    const shown = { kind, id, dir: flags.path ?? shortName(id), files: r.files };
    (await ctx.output({ ...(flags.json === true ? { json: true } : {}) })).result(newModuleJson(shown), newModuleHuman(shown));
  });
}

interface LintFlags {
  json?: boolean;
  app?: string;
  builder?: string;
  pullPolicy?: string;
}

/** With --app: bin/generate runs for that app as `kiln generate --extension DIR` would, and what it emits is linted too. */
async function emittedFor(ctx: CliContext, dir: string, id: string | undefined, flags: LintFlags & { app: string }, json: boolean): Promise<import('../../image/dockerfile-lint.js').LintFinding[]> {
  const [{ generateOnly }, { emittedFindings }, { chooseBuilder }, { readKilnConfig }, { fetcherFor }] = await Promise.all([
    import('../../app/generate-app.js'),
    import('../../app/lint-emitted.js'),
    import('../builder-choice.js'),
    import('../../config/kiln-config.js'),
    import('../pull-options.js'),
  ]);
  const config = await readKilnConfig();
  const builder = checkImageRef(await chooseBuilder({ ...flags, path: flags.app }, config), 'the builder');
  const output = await ctx.output({ style: 'progress', quiet: true, ...(json ? { json: true } : {}) });
  const engine = await ctx.engine();
  const fetcher = await fetcherFor(flags, engine, output.reporter, undefined, config);
  const report = await generateOnly({ engine, reporter: output.reporter, ids: ctx.ids, fetcher }, { builder, path: flags.app, env: {}, modules: { extensions: [dir] }, ...(process.env.KILN_LABELS !== undefined ? { labels: labelsFromEnv(process.env.KILN_LABELS) } : {}) });
  return emittedFindings(report, id ?? '', dir);
}

function registerLint(program: Command, ctx: CliContext, kind: ModuleKind): void {
  const cmd = parentOf(program, kind)
    .command('lint [dir]')
    .description(`check a ${kind} directory: descriptor, executables${kind === 'extension' ? ', Dockerfiles under generate/ (and with --app, what bin/generate emits for that app)' : ''}; exit 0 when no errors, ${ExitCode.config} otherwise`)
    .option('--json', 'print the findings as JSON on stdout');
  if (kind === 'extension') {
    cmd
      .option('--app <dir>', 'also run bin/generate for this app (on the builder) and lint the Dockerfiles it emits')
      .option('-B, --builder <image>', "builder for --app (default: the app's project.toml builder, else kiln config default-builder)", (v: string) => checkImageRef(v, '--builder'))
      .option(...PULL_POLICY_OPTION);
  }
  cmd.action(async (dir: string | undefined, flags: LintFlags) => {
      const [{ lintModule }, { lintReportJson, lintReportHuman }] = await Promise.all([import('../../app/lint-module.js'), import('../../ui/lint-report.js')]);
      const report = await lintModule(kind, dir ?? '.');
      if (flags.app !== undefined) report.findings.push(...(await emittedFor(ctx, dir ?? '.', report.id, { ...flags, app: flags.app }, flags.json === true)));
      (await ctx.output({ ...(flags.json === true ? { json: true } : {}) })).result(lintReportJson(report), (style) => lintReportHuman(report, style));
      if (report.findings.some((f) => f.severity === 'error')) process.exitCode = ExitCode.config;
    });
}

export function registerAuthorCommands(program: Command, ctx: CliContext): void {
  for (const kind of ['buildpack', 'extension'] as const) {
    registerNew(program, ctx, kind);
    registerLint(program, ctx, kind);
  }
}
