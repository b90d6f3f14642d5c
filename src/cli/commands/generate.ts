/**
 * `kiln generate --builder B --path APP [--buildpack X ...] [--extension DIR ...] [--output DIR]`
 * (issue 20 point 2; README "For buildpack and extension authors"): detect and generate of a build, and
 * for each extension of the chosen group the Dockerfiles and extend-config.toml it produced, the image
 * each applies to and its build args. Nothing is built; nothing is left behind. Exit codes as a build's
 * detect (20/21) and generate (91/92).
 */
import type { Command } from 'commander';
import { ExitCode, KilnError } from '../../errors.js';
import { checkImageRef } from '../../image/image-ref.js';
import type { CliContext } from '../context.js';
import { labelsFromEnv, parseEnvEntries } from './build.js';
import { refuseExposedHostNetwork } from '../network-flags.js';
import { PULL_POLICY_OPTION } from '../pull-options.js';
import { abortOnSignals } from '../interrupt.js';
import { collect } from '../repeatable.js';
import { moduleValue } from './build-flags.js';

interface GenerateFlags {
  builder?: string;
  path: string;
  descriptor?: string;
  env: string[];
  buildpack: string[];
  extension: string[];
  output?: string;
  network?: string;
  pullPolicy?: string;
  json?: boolean;
  verbose?: boolean;
  quiet?: boolean;
}

export function registerGenerate(program: Command, ctx: CliContext): void {
  program
    .command('generate')
    .description("Run detect and generate only: show the Dockerfiles and build args each extension of the chosen group produces (nothing is built)")
    .option('-B, --builder <image>', "builder image (default: project.toml's builder, else kiln config default-builder)", (v: string) => checkImageRef(v, '--builder'))
    .option('-p, --path <dir>', 'app source directory', '.')
    .option('-d, --descriptor <file>', 'project descriptor (default <path>/project.toml), as for kiln build')
    .option('-e, --env <K=V>', 'build-time env var (repeatable)', collect, [])
    .option('-b, --buildpack <buildpack>', "buildpack to use instead of the builder's order (repeatable; as kiln build)", collect, [])
    .option('--extension <extension>', "extension to use, prepended to the builder's order-extensions (repeatable; as kiln build)", collect, [])
    .option('-o, --output <dir>', 'also write each extension\'s files to <dir>/<escaped id>/ (a new or empty directory)')
    .option('--network <mode>', 'network mode of detect and generate containers (default none)')
    .option(...PULL_POLICY_OPTION)
    .option('--json', 'print the report as JSON on stdout (events as JSON lines on stderr)')
    .option('-v, --verbose', 'show detect output and container specs')
    .option('-q, --quiet', 'show only warnings and errors')
    .action(async (flags: GenerateFlags) => {
      await refuseExposedHostNetwork({ '--network': flags.network });
      // Loaded when the command runs, not at start-up (issue 21).
      const [{ generateOnly }, { writeGenerateOutput }, { generateReportHuman, generateReportJson }, { chooseBuilder }, { readKilnConfig }, { fetcherFor }] = await Promise.all([
        import('../../app/generate-app.js'),
        import('../../app/generate-output.js'),
        import('../../ui/generate-report.js'),
        import('../builder-choice.js'),
        import('../../config/kiln-config.js'),
        import('../pull-options.js'),
      ]);
      const config = await readKilnConfig();
      const builder = checkImageRef(await chooseBuilder(flags, config), 'the builder');
      const output = await ctx.output({ style: 'progress', ...(flags.json === true ? { json: true } : {}), verbose: flags.verbose === true, quiet: flags.quiet === true });
      const engine = await ctx.engine();
      const abort = new AbortController();
      const fetcher = await fetcherFor(flags, engine, output.reporter, abort.signal, config);
      const modules = {
        ...(flags.buildpack.length > 0 ? { buildpacks: flags.buildpack.map((v) => moduleValue('--buildpack', v)) } : {}),
        ...(flags.extension.length > 0 ? { extensions: flags.extension.map((v) => moduleValue('--extension', v)) } : {}),
      };
      const stopListening = abortOnSignals(abort);
      try {
        const report = await generateOnly(
          { engine, reporter: output.reporter, ids: ctx.ids, fetcher, signal: abort.signal },
          {
            builder,
            path: flags.path,
            env: parseEnvEntries(flags.env),
            ...(flags.descriptor !== undefined ? { descriptor: flags.descriptor } : {}),
            ...(flags.network !== undefined ? { network: flags.network } : {}),
            ...(Object.keys(modules).length > 0 ? { modules } : {}),
            ...(process.env.KILN_LABELS !== undefined ? { labels: labelsFromEnv(process.env.KILN_LABELS) } : {}),
          },
        );
        const written = flags.output !== undefined ? await writeGenerateOutput(report, flags.output) : undefined;
        output.result(generateReportJson(report, written), (style) => generateReportHuman(report, style, written));
      } catch (e) {
        if (abort.signal.aborted) throw new KilnError({ action: 'generate', cause: 'interrupted; what it created was removed, unless a cleanup warning above says otherwise (then run kiln prune)', exitCode: ExitCode.interrupted, original: e });
        throw e;
      } finally {
        stopListening();
      }
    });
}
