/**
 * `kiln build <image> --builder <image> ...`: flags -> BuildRequest -> buildApp. Ctrl-C / SIGTERM abort
 * the running container through an AbortController; buildApp's finally removes everything of the session.
 */
import { realpathSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { Command } from 'commander';
import type { BuildRequest } from '../../app/build-app.js';
import { checkImageRef } from '../../image/image-ref.js';
import { isLocalDaemon } from '../../docker/daemon-locality.js';
import { socketIds, treeHoldsSocket } from './socket-scan.js';
import { ExitCode, isKilnError, KilnError } from '../../errors.js';
import type { Mount } from '../../ports.js';
import { ALLOW_REMOTE_FLAG } from '../../image/dockerfile-remote.js';
import { EXTENSION_NETWORK_FLAG, parseExtensionNetwork, refuseExposedHostNetwork } from '../network-flags.js';
import { PULL_POLICY_OPTION } from '../pull-options.js';
import { limitsOf, MEMORY_HELP, PIDS_LIMIT_HELP, type LimitFlags } from '../limit-flags.js';
import { DETECT_PARALLEL_HELP, detectParallelOf } from '../detect-parallel.js';
import { abortOnSignals } from '../interrupt.js';
import type { CliContext } from '../context.js';
import { declarePackFlags, packFlagsRequest, type PackBuildFlags } from './build-flags.js';
import { collect } from '../repeatable.js';

interface BuildFlags extends LimitFlags, PackBuildFlags {
  watch?: boolean;
  run?: boolean;
  port?: string;
  detectParallel?: string;
  builder?: string;
  pullPolicy?: string;
  path: string;
  env: string[];
  /** Repeatable (a string when a caller gives one file). */
  envFile?: string | string[];
  runImage?: string;
  defaultProcess?: string;
  descriptor?: string;
  network?: string;
  extensionNetwork?: string;
  allowDockerfileRemote?: boolean;
  volume: string[];
  timeout?: string;
  cacheVolume?: string;
  clearCache?: boolean;
  /** false with --no-reuse (commander's negatable option). */
  reuse?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  json?: boolean;
  timestamps?: boolean;
  publish?: boolean;
}

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

/**
 * An env file: one `K=V` or `K` per line; blank lines and `#` comments are skipped, a UTF-8 byte order
 * mark and CRLF line ends are accepted. A line without a name (`=value`) is refused naming the file and
 * line, never the value (it may be a secret).
 */
export function readEnvFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KilnError({ action: `read env file ${path}`, cause: (e as Error).message, exitCode: ExitCode.usage, original: e });
  }
  const entries: string[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const eq = line.indexOf('=');
    const name = eq < 0 ? line : line.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new KilnError({
        action: `read env file ${path}`,
        cause: `${path}:${i + 1} ${name === '' ? 'has no variable name before \'=\'' : 'does not start with a valid variable name'} (the value is not shown)`,
        hint: 'write NAME=value, one per line; NAME is letters, digits and _, not starting with a digit',
        exitCode: ExitCode.usage,
        subject: `${path}:${i + 1}`,
      });
    }
    entries.push(line);
  });
  return entries;
}

/** `SRC:DST[:ro|rw]`, read-only unless `:rw` (pack's default); an absolute SRC is a bind mount, anything else a named volume. */
export function parseVolume(spec: string): Mount {
  const parts = spec.split(':');
  const [source, target, mode] = parts;
  if (parts.length < 2 || parts.length > 3 || !source || !target || !target.startsWith('/') || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
    throw usage(`--volume "${spec}" must be SRC:DST[:ro|rw] with an absolute DST`);
  }
  if (!source.startsWith('/') && !/^[A-Za-z0-9][A-Za-z0-9_.-]+$/.test(source)) {
    throw usage(`--volume "${spec}": "${source}" is neither an absolute host path nor a volume name ([A-Za-z0-9][A-Za-z0-9_.-]+)`);
  }
  if (source.startsWith('/') && exposesDockerSocket(source)) {
    throw usage(`--volume "${spec}" would give buildpacks and extensions the docker socket (root on the host); mount something else`);
  }
  return { type: source.startsWith('/') ? 'bind' : 'volume', source, target, readOnly: mode !== 'rw' };
}

/**
 * True when a bind source is the daemon's socket or a directory holding it (docs/reliability.md). Both
 * sides are compared by their real paths, so a symlink to /run (or to the socket) is caught too; a source
 * that does not exist yet is resolved through its nearest existing parent. On a local daemon the source
 * tree is also scanned for the socket under another name (socket-scan.ts).
 */
export function exposesDockerSocket(source: string, dockerHost: string | undefined = process.env.DOCKER_HOST): boolean {
  const sockets = ['/var/run/docker.sock', '/run/docker.sock'];
  if (dockerHost?.startsWith('unix://') === true) sockets.push(dockerHost.slice('unix://'.length));
  else if (dockerHost?.startsWith('/') === true) sockets.push(dockerHost);
  const candidates = new Set(sockets.flatMap((s) => [posix.normalize(s), realPathOf(s)]));
  const srcs = new Set([posix.normalize(source).replace(/\/+$/, '') || '/', realPathOf(source)]);
  if ([...srcs].some((src) => src === '/' || [...candidates].some((s) => s === src || s.startsWith(`${src}/`)))) return true;
  // Under another name: a hard link to the socket, or its directory mounted below the source.
  return isLocalDaemon(dockerHost) && treeHoldsSocket(realPathOf(source), socketIds([...candidates]));
}

/** On a daemon that is not local, a bind source is a path on the daemon's host: the warning, or undefined. */
export function remoteVolumeWarning(volumes: readonly Mount[], dockerHost: string | undefined = process.env.DOCKER_HOST): string | undefined {
  const binds = volumes.filter((m) => m.type === 'bind').map((m) => m.source);
  if (binds.length === 0 || isLocalDaemon(dockerHost)) return undefined;
  return `--volume ${binds.join(', ')}: a bind source is a path on the daemon's host (DOCKER_HOST=${dockerHost ?? ''}), not on this machine; kiln cannot check it there for symlinks to the daemon's socket`;
}

/** The real path of `p`, resolving symlinks of its nearest existing ancestor when `p` does not exist. */
function realPathOf(p: string): string {
  const abs = posix.resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    const parent = posix.dirname(abs);
    return parent === abs ? abs : posix.join(realPathOf(parent), posix.basename(abs));
  }
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

export function buildRequestOf(image: string, flags: BuildFlags & { builder: string }): BuildRequest {
  // Env files in the order given (a later one wins), then --env (pack's order).
  const env = { ...parseEnvEntries([flags.envFile ?? []].flat().flatMap((f) => readEnvFile(f))), ...parseEnvEntries(flags.env) };
  const limits = limitsOf(flags);
  const detectParallel = detectParallelOf(flags.detectParallel);
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
    ...(flags.extensionNetwork !== undefined ? { extensionNetwork: parseExtensionNetwork(flags.extensionNetwork) } : {}),
    ...(flags.allowDockerfileRemote === true ? { allowDockerfileRemote: true } : {}),
    ...(flags.timeout !== undefined ? { timeoutSeconds: parseTimeout(flags.timeout) } : {}),
    ...(flags.cacheVolume !== undefined ? { cacheVolume: flags.cacheVolume } : {}),
    ...(flags.clearCache === true ? { clearCache: true } : {}),
    ...(flags.reuse === false ? { noReuse: true } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
    ...packFlagsRequest(image, flags),
    ...(detectParallel !== undefined ? { detectParallel } : {}),
  };
}

export function registerBuild(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('build <image>')
    .description('Build an app image from source with a builder (detect, generate, extend, build, export)')
    .option('-B, --builder <image>', "builder image (default: project.toml's builder, else kiln config default-builder)", (v: string) => checkImageRef(v, '--builder'))
    .option('-p, --path <dir>', 'app source directory', '.')
    .option('-e, --env <K=V>', "build-time environment variable, 'VAR=VALUE' or 'VAR' (the value is then taken from your environment); overrides --env-file; NOT available at image runtime (repeatable)", collect, [])
    .option('--env-file <file>', "build-time environment variables file: one 'VAR=VALUE' or 'VAR' per line; a later file wins; NOT available at image runtime (repeatable)", collect, [])
    .option('--run-image <image>', 'run image to use instead of the builder\'s', (v: string) => checkImageRef(v, '--run-image'))
    .option('-D, --default-process <type>', 'set the default process type (default: the one the buildpacks choose, else "web")')
    .option('-d, --descriptor <file>', 'project descriptor (default <path>/project.toml)')
    .option('--network <mode>', 'network mode of buildpack and extension containers (detect, generate, build; default none)')
    .option(`${EXTENSION_NETWORK_FLAG} <none|host>`, 'network of Dockerfile RUN steps (default none; host lets apt-get reach a mirror)')
    .option(ALLOW_REMOTE_FLAG, 'allow ADD <url> and COPY --from= in extension Dockerfiles (the daemon fetches or copies from other images)')
    .option('--volume <SRC:DST[:ro|rw]>', "mount a host directory (absolute path) or a named volume into the buildpack containers, '<source>:<target>[:<options>]'; options: 'ro' (the default: read-only) or 'rw' (readable and writable) (repeatable)", collect, [])
    .option('--timeout <seconds>', 'kill a buildpack or extension run (detect, generate, build) after this many seconds')
    .option('--pids-limit <n>', PIDS_LIMIT_HELP)
    .option('--memory <size>', MEMORY_HELP)
    .option('--detect-parallel <n>', DETECT_PARALLEL_HELP)
    .option('--cache-volume <name>', 'cache volume to use (default kiln-cache-<hash of the image name>)')
    .option('--clear-cache', 'start with an empty cache (also removes this app\'s cached extended images)')
    .option('--no-reuse', 'run every phase even when all inputs equal those of the last build of this image')
    .option('-v, --verbose', 'show detect output and timings')
    .option('-q, --quiet', 'show only warnings and errors')
    .option('--json', 'one JSON event per line on stderr, the result as JSON on stdout')
    .option('--timestamps', 'prefix every output line with the time (UTC)')
    .option('--publish', 'push the app image to its registry after the build (the daemon pushes; see DOCKER_HOST)')
    .option(...PULL_POLICY_OPTION)
    .option('-w, --watch', 'build again whenever the app or a --buildpack/--extension directory changes (Ctrl-C stops)')
    .option('--run', 'with --watch: run each new image on the host network, replacing the previous container, and show its output')
    .option('--port <port>', 'with --run: set PORT=<port> in the app container');
  declarePackFlags(cmd).action(async (image: string, flags: BuildFlags) => {
      // Loaded when the command runs, not at start-up (issue 21).
      const { applyTags, writeSbomOutput, writeReport, buildApp, publishImage, registryAuthFor, pullPreviousImage, withDefaultTag, observeEngine, collectSummary, summaryOf, fetcherFor, chooseBuilder, readKilnConfig } = await import('./build-run.js');
      const config = await readKilnConfig();
      const builder = checkImageRef(await chooseBuilder(flags, config), 'the builder');
      const req = { ...buildRequestOf(image, { ...flags, builder }), runImageMirrors: config.runImageMirrors };
      await refuseExposedHostNetwork({ '--network': req.network, [EXTENSION_NETWORK_FLAG]: req.extensionNetwork });
      if (flags.watch !== true && (flags.run === true || flags.port !== undefined)) {
        throw new KilnError({ action: `read ${flags.run === true ? '--run' : '--port'}`, cause: 'it works only with --watch', hint: 'add --watch (kiln build --watch --run)', exitCode: ExitCode.usage });
      }
      const { reporter, facts } = collectSummary((await ctx.output({ ...flags, style: 'progress' })).reporter);
      const engine = observeEngine(await ctx.engine(), reporter, { verbose: flags.verbose === true });
      const remote = remoteVolumeWarning(req.volumes);
      if (remote !== undefined) reporter.emit({ type: 'warning', message: remote });
      const abort = new AbortController();
      const fetcher = await fetcherFor(flags, engine, reporter, abort.signal, config);
      /** One build; resolves with the image id. */
      const once = async (signal: AbortSignal): Promise<string> => {
        if (flags.publish === true) await pullPreviousImage({ engine, reporter, fetcher }, withDefaultTag(req.image));
        const outcome = await buildApp({ engine, reporter, ids: ctx.ids, signal, fetcher }, req);
        const tags = [withDefaultTag(req.image), ...(req.tags ?? [])];
        await applyTags(engine, outcome.imageId, tags.slice(1));
        if (req.sbomOutputDir !== undefined) await writeSbomOutput(req.sbomOutputDir, outcome.sbom ?? []);
        const size = (await engine.inspectImage(outcome.imageId))?.size;
        reporter.emit({ type: 'result', result: summaryOf(outcome.export.tags[0] ?? req.image, outcome, facts, size, ctx.clock.now()) });
        // Pushed here, once the image exists, so build-app stays registry-free (issue 7); every tag.
        if (flags.publish === true) for (const t of tags) await publishImage(engine, reporter, t, await registryAuthFor(t));
        if (flags.reportOutputDir !== undefined) await writeReport(flags.reportOutputDir, { tags, imageId: outcome.imageId });
        return outcome.imageId;
      };
      const stopListening = abortOnSignals(abort);
      try {
        if (flags.watch === true) {
          const { watchBuild } = await import('./build-watch.js');
          await watchBuild({ engine, reporter, signal: abort.signal, once, req, flags, newId: () => ctx.ids.newId() });
          throw new KilnError({ action: 'watch', cause: 'stopped; the app container and the build in flight were removed', exitCode: ExitCode.interrupted });
        }
        await once(abort.signal);
      } catch (e) {
        if (flags.watch === true && isKilnError(e) && e.action === 'watch') throw e;
        if (abort.signal.aborted) throw new KilnError({ action: 'build', cause: 'interrupted; what the build created was removed, unless a cleanup warning above says otherwise (then run kiln prune)', exitCode: ExitCode.interrupted, original: e });
        throw e;
      } finally {
        stopListening();
      }
    });
}
