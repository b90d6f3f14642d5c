/**
 * `kiln detect --explain --builder B --path DIR`: which buildpack group (and extensions) would build the
 * app, and why, without building anything. Exits 0 when a group passes, else 20/21 like a build.
 */
import type { Command } from 'commander';
import { ExitCode, KilnError } from '../../errors.js';
import { checkImageRef } from '../../image/image-ref.js';
import type { CliContext } from '../context.js';
import { labelsFromEnv, parseEnvEntries } from './build.js';
import { refuseExposedHostNetwork } from '../network-flags.js';
import { limitsOf, MEMORY_HELP, PIDS_LIMIT_HELP, type LimitFlags } from '../limit-flags.js';
import { DETECT_PARALLEL_HELP, detectParallelOf } from '../detect-parallel.js';
import { abortOnSignals } from '../interrupt.js';
import { collect } from '../repeatable.js';

interface DetectFlags extends LimitFlags {
  detectParallel?: string;
  builder: string;
  path: string;
  descriptor?: string;
  env: string[];
  explain?: boolean;
  network?: string;
  json?: boolean;
  verbose?: boolean;
}

export function registerDetect(program: Command, ctx: CliContext): void {
  program
    .command('detect')
    .description('Run detection only and show which group would build the app (--explain: the whole order as a tree)')
    .requiredOption('-B, --builder <image>', 'builder image (must exist in the Docker daemon)', (v: string) => checkImageRef(v, '--builder'))
    .option('-p, --path <dir>', 'app source directory', '.')
    .option('-d, --descriptor <file>', 'project descriptor (default <path>/project.toml), as for kiln build')
    .option('-e, --env <K=V>', 'build-time env var (repeatable)', collect, [])
    .option('--explain', 'show every candidate group, each module pass/fail/skip with exit code and plan entries')
    .option('--network <mode>', 'network mode of detect containers (default none)')
    .option('--pids-limit <n>', PIDS_LIMIT_HELP)
    .option('--memory <size>', MEMORY_HELP)
    .option('--detect-parallel <n>', DETECT_PARALLEL_HELP)
    .option('--json', 'print the trace as JSON on stdout')
    .option('-v, --verbose', 'show container specs')
    .action(async (flags: DetectFlags) => {
      await refuseExposedHostNetwork({ '--network': flags.network });
      // Loaded when the command runs, not at start-up (issue 21).
      const [{ explainDetect }, { detectKey }, { formatExplainTree }] = await Promise.all([
        import('../../app/detect-app.js'),
        import('../../lifecycle/detect.js'),
        import('../../ui/explain-tree.js'),
      ]);
      const output = await ctx.output({ style: 'progress', ...(flags.json === true ? { json: true } : {}), verbose: flags.verbose === true, quiet: flags.verbose !== true && flags.json !== true });
      const detectParallel = detectParallelOf(flags.detectParallel);
      const abort = new AbortController();
      const stopListening = abortOnSignals(abort);
      const result = await explainDetect(
        { engine: await ctx.engine(), reporter: output.reporter, ids: ctx.ids, signal: abort.signal },
        {
          builder: flags.builder,
          path: flags.path,
          ...(flags.descriptor !== undefined ? { descriptor: flags.descriptor } : {}),
          env: parseEnvEntries(flags.env),
          limits: limitsOf(flags),
          ...(detectParallel !== undefined ? { detectParallel } : {}),
          ...(flags.network !== undefined ? { network: flags.network } : {}),
          ...(process.env.KILN_LABELS !== undefined ? { labels: labelsFromEnv(process.env.KILN_LABELS) } : {}),
        },
      ).finally(stopListening);
      const detects = Object.fromEntries([...result.detects].map(([k, r]) => [k, { status: r.status, exitCode: r.exitCode, plan: r.plan, output: r.output.map((o) => o.line) }]));
      output.result({ ok: result.ok, trace: result.trace, group: result.group, groupExtensions: result.groupExtensions, plan: result.plan, detects }, (style) => {
        const lines = flags.explain === true
          ? formatExplainTree({ builder: flags.builder, path: flags.path, trace: result.trace, ok: result.ok, planOf: (m) => result.detects.get(detectKey(m.kind, m.id, m.version))?.plan }, style)
          : result.ok
            ? [...result.groupExtensions.map((m) => `${m.id}@${m.version} (extension)`), ...result.group.map((m) => `${m.id}@${m.version}`)]
            : [];
        return lines.map((l) => `${l}\n`).join('');
      });
      if (!result.ok) {
        throw new KilnError({
          action: 'detect',
          cause: result.code === 21 ? 'no group passed detection, and a module errored' : 'no group passed detection',
          hint: flags.explain === true ? 'the tree above shows why each group failed' : 'run again with --explain to see why each group failed',
          exitCode: result.code === 21 ? ExitCode.detectError : ExitCode.detectFail,
        });
      }
    });
}
