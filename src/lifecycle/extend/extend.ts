/**
 * The extend phase (image_extension.md, "Phase: Extension"; docs/architecture.md, "The data flow of one build", step 6): each extension's build.Dockerfile is applied
 * to the builder image and each run.Dockerfile to the run image, in group order, each on the previous
 * result, through the daemon's image build (the "Docker-based equivalent" of platform.md, "`extender` (optional)"). The lifecycle's
 * build args, the build context rules, the user rules and the rebasable label follow image_extension.md, "Phase: Extension"; platform.md, "`extender` (optional)".
 */
import { randomUUID } from 'node:crypto';
import { ExitCode, KilnError, isInterrupted, isKilnError } from '../../errors.js';
import { makeTar, readTar, toTarFileEntry, type TarFileEntry } from '../../image/tar-files.js';
import type { ImageInfo } from '../../ports.js';
import type { ExtendArg } from '../../cnb/models.js';
import { formatDockerfileIssue, onPlatformBase, parseDockerfile } from '../../image/dockerfile.js';
import { ALLOW_REMOTE_FLAG, remoteSourceIssues } from '../../image/dockerfile-remote.js';
import { dockerfileReadsContext } from '../../image/dockerfile-context.js';
import { cacheImageLabels, extendCacheKey, findCachedImage, keepCachedImage, usesBuildId } from './cache.js';
import { dockerfileOomNote } from '../container/module-limits.js';
import { addedLayers, buildArgsRecord, checkUsers, extendBuildArgs, extendedRebasable, extensionLayerCreatedBy, labelIsTrue, nextRebasable, platformBaseImageOnly, REBASABLE_LABEL, type ExtendKind } from './plan.js';
import { extensionOutputFilter } from './output.js';
import { persistedRunImage, preparedRunBase } from './persist.js';
import type { PhaseContext } from '../phase-context.js';
import { readFromVolume } from '../container/volume-io.js';

/** Networks a Dockerfile's RUN steps may get (docs/reliability.md "Dockerfile builds"). */
export type ExtensionNetwork = 'none' | 'host';

export interface ExtendStep {
  extensionId: string;
  /** The Dockerfile's text. */
  dockerfile: string;
  /** [[build.args]] or [[run.args]] of the extension's extend-config.toml. */
  args: ExtendArg[];
  /** The build context as a tar (context.<kind>/ or context/ of the output); undefined = the app (image_extension.md, "Phase: Extension"). */
  context?: Buffer;
}

export interface ExtendInput {
  kind: ExtendKind;
  /** Image id or reference of the image to extend. */
  baseImage: string;
  steps: ExtendStep[];
  /** Where the app is, for steps without their own context: read once from the app volume. */
  app?: { volume: string; image: string };
  /**
   * Network for RUN steps: 'none' (default) or 'host' when the user asked for it (--extension-network,
   * docs/reliability.md "Dockerfile builds"); the caller has checked that 'host' gives no path to the daemon.
   */
  network?: ExtensionNetwork;
  /** ADD <url> and COPY --from= are allowed (--allow-dockerfile-remote); checked before any build. */
  allowRemote?: boolean;
  /** Labels added to every image built (on top of ctx.labels), e.g. to find intermediates. */
  labels?: Record<string, string>;
  /**
   * 'explicit' (default, image_extension.md: "all applied Dockerfiles must set this label to true"): the
   * run image must be labelled rebasable and each run.Dockerfile must itself contain
   * LABEL io.buildpacks.rebasable=true. 'inherit' (the lifecycle's behaviour): a Dockerfile that does not
   * set the label inherits the previous image's value.
   */
  rebasableMode?: 'inherit' | 'explicit';
  /**
   * Reuse extended images by content (extend/cache.ts): results are labelled with their key instead of
   * `sessionLabel` (so session cleanup keeps them) and a later application with the same key is skipped.
   */
  cache?: { sessionLabel: string; labels?: Record<string, string> };
}

export interface ExtendLayer {
  diffId: string;
  /** The extension whose Dockerfile created the layer (history "Created by extension: <id>", platform.md, "`extender` (optional)"). */
  extensionId: string;
  /**
   * The instruction that made the layer ("RUN ...", "COPY ..."), best effort: the port gives no image
   * history, so the Dockerfile's RUN/COPY/ADD are matched to the new layers when their counts agree.
   */
  command: string;
}

export interface ExtendStepResult {
  extensionId: string;
  imageId: string;
  buildId: string;
  /** Layers this step added. */
  layers: string[];
  user: string;
}

export interface ExtendResult {
  kind: ExtendKind;
  /** The final image id (the base's id when there were no steps). */
  imageId: string;
  /** Run kind: the computed io.buildpacks.rebasable (platform.md, "`extender` (optional)"); build kind: always true (not recorded). */
  rebasable: boolean;
  /** diffIDs above the original top layer, bottom to top. */
  newLayers: string[];
  /** The same layers with the extension that made each. */
  history: ExtendLayer[];
  steps: ExtendStepResult[];
  /** True when at least one Dockerfile was applied. */
  changed: boolean;
  warnings: string[];
  /** Every image id built (intermediates and final), for cleanup. */
  builtImages: string[];
  /** The original image's top layer diffID (runImage.topLayer, platform.md, "`exporter`"), '' when it has none. */
  originalTopLayer: string;
  /** How many Dockerfile builds the daemon ran (cache hits do not count). */
  dockerBuilds: number;
}

/** The Dockerfile's name inside the context tar; a name no extension context is likely to use. */
const DOCKERFILE_NAME = '.kiln-extend.Dockerfile';

async function inspectOrFail(ctx: PhaseContext, ref: string, action: string): Promise<ImageInfo> {
  const info = await ctx.engine.inspectImage(ref);
  if (info === undefined) {
    throw new KilnError({ action, cause: `image ${ref} does not exist in the Docker daemon`, exitCode: ExitCode.extendFailed });
  }
  return info;
}

/** The context tar plus our Dockerfile at its root (an existing entry with that name is replaced). */
export async function contextWithDockerfile(context: Buffer, dockerfile: string): Promise<Buffer> {
  const entries: TarFileEntry[] = (await readTar(context, { maxBytes: 2 * 1024 * 1024 * 1024 }))
    .filter((e) => e.path !== DOCKERFILE_NAME && e.path !== '.')
    .map((e) => toTarFileEntry(e));
  entries.push({ path: DOCKERFILE_NAME, content: dockerfile, mode: 0o644 });
  return makeTar(entries);
}

/** The context of a Dockerfile that reads none: an empty tar (our Dockerfile is added to it). */
let emptyTar: Promise<Buffer> | undefined;
const emptyContext = (): Promise<Buffer> => (emptyTar ??= makeTar([]));

/** The app volume's contents as a context tar (entries relative to the volume root). */
async function appContext(ctx: PhaseContext, app: { volume: string; image: string }): Promise<Buffer> {
  const entries = await readTar(await readFromVolume(ctx, { volume: app.volume, image: app.image, path: '/' }), { maxBytes: 2 * 1024 * 1024 * 1024 });
  const prefix = /^[^/]+\//;
  return makeTar(
    entries
      .filter((e) => e.path.includes('/'))
      .map((e) => toTarFileEntry(e, e.path.replace(prefix, ''))),
  );
}

/**
 * Every step's Dockerfile is checked before the first build (dockerfile-remote.ts): generate checked the
 * files already, this covers recorded ones (rebase --reextend). Exit 92 with <extension>'s <kind>.Dockerfile:line.
 */
function checkRemoteSources(input: ExtendInput): void {
  for (const step of input.steps) {
    const issues = remoteSourceIssues(step.dockerfile, `${step.extensionId}'s ${input.kind}.Dockerfile`, { allowRemote: input.allowRemote === true });
    if (issues.length === 0) continue;
    throw new KilnError({
      action: `apply ${step.extensionId}'s ${input.kind}.Dockerfile`,
      cause: issues.map(formatDockerfileIssue).join('; '),
      hint: `copy files from the extension's build context instead; for ADD <url> and COPY --from, ${ALLOW_REMOTE_FLAG} opts in`,
      exitCode: ExitCode.generateError,
      subject: step.extensionId,
    });
  }
}

/**
 * Applies the steps in order. Throws KilnError exit 102 when a Dockerfile fails to build or the final
 * run image is left as root; everything built is labelled with ctx.labels, so a caller's cleanup finds it
 * (the ids are also in the result, and in the error's `original` when a later check fails).
 */
export async function extendImage(ctx: PhaseContext, input: ExtendInput): Promise<ExtendResult> {
  const { kind } = input;
  checkRemoteSources(input);
  const original = await inspectOrFail(ctx, input.baseImage, `extend the ${kind} image`);
  const kilnSteps = { labels: input.labels ?? {}, ...(input.cache !== undefined ? { cache: input.cache } : {}) };
  // Run kind: the Dockerfiles apply to the run image plus empty <app>/<layers>/<platform> (extend/persist.ts).
  const prepared = kind === 'run' && input.steps.length > 0 ? await preparedRunBase(ctx, original, kilnSteps) : original;
  let current = prepared;
  let rebasable = true;
  const optIns: boolean[] = [];
  const argWarnings: string[] = [];
  let appTar: Buffer | undefined;
  const steps: ExtendStepResult[] = [];
  const history: ExtendLayer[] = [];
  const builtImages: string[] = prepared.id !== original.id ? [prepared.id] : [];
  let dockerBuilds = 0;
  for (const step of input.steps) {
    const action = `apply ${step.extensionId}'s ${kind}.Dockerfile`;
    // A fresh UUID per application (platform.md: build_id MUST be a UUID), so RUN steps after
    // `ARG build_id` are never cached.
    const buildId = randomUUID();
    const own = platformBaseImageOnly(step.extensionId, kind, step.args);
    if (own.warning !== undefined) {
      argWarnings.push(own.warning);
      ctx.reporter.emit({ type: 'warning', message: own.warning });
    }
    const args = extendBuildArgs({ baseImage: current.id, buildId, user: current.config.user, extensionArgs: own.args });
    // A run.Dockerfile that switched the run image is applied on the chosen image (dockerfile.ts onPlatformBase).
    const dockerfile = kind === 'run' ? onPlatformBase(step.dockerfile) : step.dockerfile;
    // A Dockerfile that cannot read its context gets an empty one (dockerfile-context.ts): the app is not
    // read, and an app change leaves the cache key as it was.
    let context = dockerfileReadsContext(dockerfile, current.config.onBuild ?? []) ? step.context : await emptyContext();
    if (context === undefined) {
      if (input.app === undefined) throw new KilnError({ action, cause: 'no build context: the extension has no context directory and no app was given' });
      appTar ??= await appContext(ctx, input.app);
      context = appTar;
    }
    const fullContext = await contextWithDockerfile(context, dockerfile);
    const reusable = input.cache !== undefined && !usesBuildId(dockerfile);
    const key = extendCacheKey({ kind, baseImageId: current.id, dockerfile, context: fullContext, args, network: input.network ?? 'none' });
    const cached = reusable ? await findCachedImage(ctx, key, input.cache?.sessionLabel) : undefined;
    let imageId: string;
    if (cached !== undefined) {
      ctx.reporter.emit({ type: 'info', message: `Reusing the extended ${kind} image of ${step.extensionId} (${cached.slice(0, 19)})` });
      imageId = cached;
    } else {
      ctx.reporter.emit({ type: 'info', message: `Applying ${kind}.Dockerfile of ${step.extensionId}` });
      dockerBuilds++;
      const labels = reusable && input.cache !== undefined ? cacheImageLabels({ ...ctx.labels, ...(input.labels ?? {}), ...(input.cache.labels ?? {}) }, key, input.cache.sessionLabel) : { ...ctx.labels, ...(input.labels ?? {}) };
      try {
        ({ imageId } = await ctx.engine.buildImage({
          context: fullContext,
          dockerfile: DOCKERFILE_NAME,
          buildArgs: buildArgsRecord(args),
          labels,
          network: input.network ?? 'none',
          onLine: extensionOutputFilter(labels, (line) => ctx.reporter.emit({ type: 'module-line', module: step.extensionId, stream: 'stdout', line })),
          ...(ctx.signal !== undefined ? { signal: ctx.signal } : {}),
          ...(ctx.moduleLimits?.memoryBytes !== undefined ? { memoryBytes: ctx.moduleLimits.memoryBytes } : {}),
        }));
        if (reusable && input.cache !== undefined) await keepCachedImage(ctx, key, imageId, input.cache.sessionLabel);
      } catch (e) {
        if (isInterrupted(e)) throw e;
        const cause = isKilnError(e) ? e.causeText : e instanceof Error ? e.message : String(e);
        const oom = dockerfileOomNote(cause, ctx.moduleLimits?.memoryBytes);
        throw new KilnError({ action, cause: `${cause}${oom}`, hint: `check ${step.extensionId}'s ${kind}.Dockerfile (output above)${oom !== '' ? '; raise the limit with --memory SIZE if the step needs more' : ''}`, exitCode: ExitCode.extendFailed, subject: step.extensionId, original: e });
      }
    }
    builtImages.push(imageId);
    const result = await inspectOrFail(ctx, imageId, action);
    const layers = addedLayers(current.layers, result.layers) ?? result.layers;
    const commands = layerCommands(step.dockerfile, layers.length, `${kind}.Dockerfile of ${step.extensionId}`);
    layers.forEach((diffId, i) => history.push({ diffId, extensionId: step.extensionId, command: commands[i] ?? '' }));
    if (kind === 'run') {
      rebasable = nextRebasable(rebasable, result.config.labels);
      optIns.push(setsRebasableTrue(step.dockerfile));
    }
    steps.push({ extensionId: step.extensionId, imageId, buildId, layers, user: result.config.user });
    current = result;
  }
  const users = checkUsers(kind, original.config.user, steps);
  for (const w of users.warnings) ctx.reporter.emit({ type: 'warning', message: w });
  if (users.error !== undefined) {
    throw new KilnError({
      action: 'extend the run image',
      cause: users.error,
      hint: 'end the run.Dockerfile with USER set back to a non-root user, e.g. USER ${user_id}:${group_id}',
      exitCode: ExitCode.extendFailed,
      original: { builtImages },
    });
  }
  const changed = steps.length > 0;
  if (kind === 'run' && input.rebasableMode !== 'inherit') rebasable = extendedRebasable(original.config.labels, optIns, current.config.labels);
  if (kind === 'run' && changed) {
    // The final config records the computed io.buildpacks.rebasable, whatever was inherited; writes under
    // <app>, <layers> and <platform> and the prepared layer are left out (extend/persist.ts).
    const persisted = await persistedRunImage(ctx, {
      ...kilnSteps,
      original,
      prepared,
      current,
      rebasable,
      createdBy: (_diffId, i) => extensionLayerCreatedBy(history[i]?.command ?? '', history[i]?.extensionId ?? ''),
    });
    builtImages.push(persisted.image.id);
    for (const h of history) h.diffId = persisted.diffIds.get(h.diffId) ?? h.diffId;
    for (const s of steps) s.layers = s.layers.map((d) => persisted.diffIds.get(d) ?? d);
    current = persisted.image;
  }
  const newLayers = addedLayers(original.layers, current.layers) ?? current.layers;
  return {
    kind,
    imageId: current.id,
    rebasable: kind === 'run' ? rebasable : true,
    newLayers,
    history,
    steps,
    changed,
    warnings: [...argWarnings, ...users.warnings],
    builtImages,
    originalTopLayer: original.layers[original.layers.length - 1] ?? '',
    dockerBuilds,
  };
}

/** Whether the Dockerfile has a LABEL setting io.buildpacks.rebasable to a true value (quotes removed). */
export function setsRebasableTrue(dockerfile: string): boolean {
  const parsed = parseDockerfile(dockerfile, 'Dockerfile').value;
  let value: string | undefined;
  for (const ins of parsed?.instructions ?? []) {
    if (ins.keyword !== 'LABEL') continue;
    for (const w of ins.args) {
      const eq = w.indexOf('=');
      if (eq < 0) continue;
      const key = w.slice(0, eq).replace(/^["']|["']$/g, '');
      if (key === REBASABLE_LABEL) value = w.slice(eq + 1).replace(/^["']|["']$/g, '');
    }
  }
  return labelIsTrue(value);
}

/**
 * The instructions behind `count` new layers: the classic builder commits one layer per RUN, COPY and
 * ADD. When the counts differ (e.g. WORKDIR creating a directory), a neutral description is used.
 */
export function layerCommands(dockerfile: string, count: number, what: string): string[] {
  const ins = (parseDockerfile(dockerfile, 'Dockerfile').value?.instructions ?? []).filter((i) => ['RUN', 'COPY', 'ADD'].includes(i.keyword));
  if (ins.length === count) return ins.map((i) => `${i.keyword} ${i.rest}`);
  return Array.from({ length: count }, (_, i) => `layer ${i + 1} of ${count} from the ${what}`);
}
