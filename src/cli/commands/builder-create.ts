/**
 * `kiln builder create <image-name> --config <builder.toml>` (issue 3, platform.md, "Build Image").
 */
import type { Command } from 'commander';
import { checkImageRef } from '../../image/image-ref.js';
import type { ContainerEngine, KilnEvent, Reporter } from '../../ports.js';
import { KILN_VERSION } from '../main.js';
import { redacting } from '../../ui/redact.js';
import { createJsonReporter } from '../../ui/json-reporter.js';
import { formatPullLines } from '../../ui/pull-lines.js';
import { makeStyle } from '../../ui/style.js';
import { fetcherFor, PULL_POLICY_OPTION } from '../pull-options.js';

/** How a command gets its engine; the default is the Docker daemon (DOCKER_HOST or the socket). */
export async function defaultEngine(): Promise<ContainerEngine> {
  const { createDockerEngine } = await import('../../docker/docker-engine.js');
  return createDockerEngine();
}

/**
 * The reporter of the commands other than build and detect: plain lines on stderr for info, warnings and
 * pulls; with `json`, every event as one JSON line on stderr (ui/json-reporter.ts; the command prints its
 * own result on stdout), so `--json` carries pull-start / pull-progress / pull-end here too.
 */
export function stderrReporter(opts: { quiet: boolean; json?: boolean }): Reporter {
  if (opts.json === true) return redacting(createJsonReporter());
  return redacting({
    emit(e: KilnEvent): void {
      if (e.type === 'warning') process.stderr.write(`warning: ${e.message}\n`);
      else if (e.type === 'info' && !opts.quiet) process.stderr.write(`${e.message}\n`);
      else if (e.type === 'debug' && process.env.KILN_DEBUG) process.stderr.write(`${e.message}\n`);
      else if ((e.type === 'pull-start' || e.type === 'pull-end') && !opts.quiet) process.stderr.write(formatPullLines(e, makeStyle(false)).map((l) => `${l}\n`).join(''));
      else if (e.type === 'phase-end' && !opts.quiet) process.stderr.write(`${e.phase} done in ${(e.elapsedMs / 1000).toFixed(1)}s\n`);
    },
  });
}

interface BuilderCreateOptions {
  config: string;
  pullPolicy?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerBuilderCreate(builder: Command, getEngine: () => Promise<ContainerEngine> = defaultEngine): void {
  builder
    .command('create')
    .description('create a builder image from a builder.toml, on top of its build image (no registry needed)')
    .argument('<image-name>', 'tag of the builder image to create', (v: string) => checkImageRef(v, 'kiln builder create <image-name>'))
    .requiredOption('-c, --config <path>', 'path of builder.toml')
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'print only warnings and errors')
    .option(...PULL_POLICY_OPTION)
    .action(async (imageName: string, opts: BuilderCreateOptions) => {
      const engine = await getEngine();
      const reporter = stderrReporter({ quiet: opts.quiet === true, json: opts.json === true });
      const fetcher = await fetcherFor(opts, engine, reporter);
      const { createBuilder } = await import('../../app/create-builder.js');
      const result = await createBuilder(engine, { imageName, configPath: opts.config, kilnVersion: KILN_VERSION, fetcher }, reporter);
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify({ image: result.imageName, id: result.imageId, warnings: result.warnings }, null, 2)}\n`);
      } else {
        process.stdout.write(`created builder ${result.imageName} (${result.imageId})\n`);
      }
    });
}
