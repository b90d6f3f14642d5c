/**
 * `kiln build <image> --builder <image> ...`: flags -> BuildRequest -> buildApp. Ctrl-C / SIGTERM abort
 * the running container through an AbortController; buildApp's finally removes everything of the session.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { Command } from 'commander';
import { buildApp, type BuildRequest } from '../../app/build-app.js';
import { publishImage } from '../../app/publish.js';
import { withDefaultTag } from '../../image/image-ref.js';
import { createDockerEngine } from '../../docker/docker-engine.js';
import { ExitCode, KilnError } from '../../errors.js';
import type { Mount } from '../../ports.js';
import { createCliReporter } from '../../ui/cli-output.js';
import { observeEngine } from '../../ui/observed-engine.js';
import { collectSummary, summaryOf } from '../../ui/summary.js';
import { limitsOf, MEMORY_HELP, PIDS_LIMIT_HELP, type LimitFlags } from '../limit-flags.js';
import { abortOnSignals } from '../interrupt.js';

interface BuildFlags extends LimitFlags {
  builder: string;
  path: string;
  env: string[];
  envFile?: string;
  runImage?: string;
  defaultProcess?: string;
  descriptor?: string;
  network?: string;
  volume: string[];
  timeout?: string;
  cacheVolume?: string;
  clearCache?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  json?: boolean;
  timestamps?: boolean;
  publish?: boolean;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function usage(cause: string): KilnError {
  return new KilnError({ action: 'read the build flags', cause, exitCode: ExitCode.usage });
}

/**
 * `--env K=V` sets K; `--env K` takes K from kiln's own environment (like pack). An env file has one
 * such entry per line; blank lines and `#` comments are skipped.
 */
export function parseEnvEntries(entries: readonly string[], source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of entries) {
    const i = raw.indexOf('=');
    if (i === 0) throw usage(`--env "${raw}" has no name`);
    if (i < 0) {
      const v = source[raw];
      if (v !== undefined) out[raw] = v;
    } else out[raw.slice(0, i)] = raw.slice(i + 1);
  }
  return out;
}

export function readEnvFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KilnError({ action: `read env file ${path}`, cause: (e as Error).message, exitCode: ExitCode.usage, original: e });
  }
  return text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
}

/** `SRC:DST[:ro|rw]`; an absolute SRC is a bind mount, anything else a named volume. */
export function parseVolume(spec: string): Mount {
  const parts = spec.split(':');
  const [source, target, mode] = parts;
  if (parts.length < 2 || parts.length > 3 || !source || !target || !target.startsWith('/') || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
    throw usage(`--volume "${spec}" must be SRC:DST[:ro|rw] with an absolute DST`);
  }
  if (source.startsWith('/') && exposesDockerSocket(source)) {
    throw usage(`--volume "${spec}" would give buildpacks and extensions the docker socket (root on the host); mount something else`);
  }
  return { type: source.startsWith('/') ? 'bind' : 'volume', source, target, readOnly: mode === 'ro' };
}

/** True when a bind source is the daemon's socket or a directory holding it (docs/reliability.md). */
export function exposesDockerSocket(source: string, dockerHost: string | undefined = process.env.DOCKER_HOST): boolean {
  const sockets = ['/var/run/docker.sock', '/run/docker.sock'];
  if (dockerHost?.startsWith('unix://') === true) sockets.push(dockerHost.slice('unix://'.length));
  const src = posix.normalize(source).replace(/\/+$/, '') || '/';
  return sockets.some((s) => s === src || src === '/' || s.startsWith(`${src}/`));
}

/**
 * KILN_LABELS="k=v,k2=v2": extra labels on every container, volume and intermediate image of the build
 * (not on the app image), so a CI or test run can find and sweep what kiln created.
 */
export function labelsFromEnv(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of (value ?? '').split(',')) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
  }
  return out;
}

/** `--timeout <seconds>`: a positive whole number of seconds. */
export function parseTimeout(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw usage(`--timeout "${value}" must be a positive number of seconds`);
  return Number(value);
}

export function buildRequestOf(image: string, flags: BuildFlags): BuildRequest {
  const env = { ...parseEnvEntries(flags.envFile !== undefined ? readEnvFile(flags.envFile) : []), ...parseEnvEntries(flags.env) };
  const limits = limitsOf(flags);
  return {
    image,
    builder: flags.builder,
    path: flags.path,
    env,
    volumes: flags.volume.map(parseVolume),
    ...(process.env.KILN_LABELS !== undefined ? { labels: labelsFromEnv(process.env.KILN_LABELS) } : {}),
    ...(flags.runImage !== undefined ? { runImage: flags.runImage } : {}),
    ...(flags.defaultProcess !== undefined ? { defaultProcess: flags.defaultProcess } : {}),
    ...(flags.descriptor !== undefined ? { descriptor: flags.descriptor } : {}),
    ...(flags.network !== undefined ? { network: flags.network } : {}),
    ...(flags.timeout !== undefined ? { timeoutSeconds: parseTimeout(flags.timeout) } : {}),
    ...(flags.cacheVolume !== undefined ? { cacheVolume: flags.cacheVolume } : {}),
    ...(flags.clearCache === true ? { clearCache: true } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
  };
}

export function registerBuild(program: Command): void {
  program
    .command('build <image>')
    .description('Build an app image from source with a builder (detect, generate, extend, build, export)')
    .requiredOption('-B, --builder <image>', 'builder image (must exist in the Docker daemon)')
    .option('-p, --path <dir>', 'app source directory', '.')
    .option('-e, --env <K=V>', 'build-time env var for buildpacks (repeatable; K alone takes it from your env)', collect, [])
    .option('--env-file <file>', 'file of K=V lines, applied before --env')
    .option('--run-image <image>', 'run image to use instead of the builder\'s')
    .option('--default-process <type>', 'process type the image starts by default')
    .option('-d, --descriptor <file>', 'project descriptor (default <path>/project.toml)')
    .option('--network <mode>', 'network mode of build containers (default none)')
    .option('--volume <SRC:DST[:ro]>', 'mount into build containers (repeatable)', collect, [])
    .option('--timeout <seconds>', 'kill a buildpack or extension run (detect, generate, build) after this many seconds')
    .option('--pids-limit <n>', PIDS_LIMIT_HELP)
    .option('--memory <size>', MEMORY_HELP)
    .option('--cache-volume <name>', 'cache volume to use (default kiln-cache-<hash of the image name>)')
    .option('--clear-cache', 'start with an empty cache (also removes this app\'s cached extended images)')
    .option('-v, --verbose', 'show detect output and timings')
    .option('-q, --quiet', 'show only warnings and errors')
    .option('--json', 'one JSON event per line on stderr, the result as JSON on stdout')
    .option('--timestamps', 'prefix every output line with the time (UTC)')
    .option('--publish', 'push the app image to its registry after the build (the daemon pushes; see DOCKER_HOST)')
    .action(async (image: string, flags: BuildFlags) => {
      const req = buildRequestOf(image, flags);
      const { reporter, facts } = collectSummary(createCliReporter(flags));
      const engine = observeEngine(createDockerEngine(), reporter, { verbose: flags.verbose === true });
      const abort = new AbortController();
      const stopListening = abortOnSignals(abort);
      try {
        const outcome = await buildApp({ engine, reporter, ids: { newId: () => randomBytes(6).toString('hex') }, signal: abort.signal }, req);
        const size = (await engine.inspectImage(outcome.imageId))?.size;
        reporter.emit({ type: 'result', result: summaryOf(outcome.export.tags[0] ?? req.image, outcome, facts, size, Date.now()) });
        // Pushed here, once the image exists, so build-app stays registry-free (issue 7).
        if (flags.publish === true) await publishImage(engine, reporter, withDefaultTag(req.image));
      } catch (e) {
        if (abort.signal.aborted) throw new KilnError({ action: 'build', cause: 'interrupted; everything the build created was removed', exitCode: ExitCode.interrupted, original: e });
        throw e;
      } finally {
        stopListening();
      }
    });
}
