/**
 * One build session (docs/architecture.md, "The data flow of one build"): everything `kiln build`,
 * `kiln detect` and `kiln rebase --reextend` create for one run, in one place. A session is
 *  - an id and the labels every resource carries (io.kiln.session, app/session-owner.ts);
 *  - for a build, the lock on its cache volume (build-lock.ts), taken before anything exists;
 *  - the app, layers, platform and scratch volumes and one kept volume host container through which every
 *    copy in or out of them goes (lifecycle/container/volume-io.ts), made by `prepare`, which also writes
 *    /platform/env and the app;
 *  - a cleanup that removes every container, volume and intermediate image carrying the session label,
 *    then releases the lock, also when the body fails or an interrupt aborts it.
 * The context a phase gets is never changed after it exists: `ctx` serves what needs no volume (reading
 * the builder, analyze) and `prepare` resolves with a new context that also knows the volume host.
 */
import { resolve } from 'node:path';
import type { ContainerEngine, IdSource, Labels, Mount, Reporter, ResourceLimits } from '../ports.js';
import type { TarFileEntry } from '../image/tar-files.js';
import { APP_UPLOAD, appPackOptions, appSourcePackEntries } from '../lifecycle/app-source.js';
import type { Env } from '../lifecycle/container/module-env.js';
import { effectiveLimits } from '../lifecycle/container/module-limits.js';
import type { RunVolumes } from '../lifecycle/container/module-run.js';
import { createVolumeHost, seedVolumeFromImage, writeToVolumes } from '../lifecycle/container/volume-io.js';
import { APP_DIR, LAYERS_DIR, type CnbUser, type PhaseContext } from '../lifecycle/phase-context.js';
import { lockCacheVolume } from './build-lock.js';
import { warnAboutDeadSessions } from './dead-sessions.js';
import { SESSION_LABEL, sessionLabels } from './session-owner.js';

export interface SessionDeps {
  engine: ContainerEngine;
  reporter: Reporter;
  ids: IdSource;
  signal?: AbortSignal;
}

export interface SessionOptions {
  /** Extra labels on every resource of the session (e.g. the test label). */
  labels?: Labels;
  /** Per-run limit of module containers, in seconds (--timeout). */
  timeoutSeconds?: number;
  /** pids / memory limits of module containers and Dockerfile builds; unset: the defaults (module-limits.ts). */
  limits?: ResourceLimits;
  /** Take the lock of this cache volume for the session (build-lock.ts): one build per cache volume. */
  lock?: { cacheVolume: string; image: string };
  /** --volume mounts of module containers; a named volume that does not exist yet is made with the session labels. */
  extraVolumes?: Mount[];
  /** Point out what dead kiln runs left behind, alongside the session (`kiln prune` removes it). */
  warnAboutLeftovers?: boolean;
  /** Where module containers see the app (--workspace); default /workspace. */
  workspace?: string;
}

/** What `prepare` writes into the volumes. */
export interface SessionInputs {
  /** The builder image id: the volume host and seed helpers are made of it. */
  builderImage: string;
  user: CnbUser;
  /** /platform/env/<NAME> files. */
  platformEnv: Env;
  /** The app source directory and project.toml's include / exclude patterns. */
  appDir: string;
  include?: readonly string[];
  exclude?: readonly string[];
}

export interface BuildSession {
  readonly id: string;
  /** The session labels (the caller's first). */
  readonly labels: Labels;
  /** The context of everything that runs before the volumes are ready (read the builder, analyze). */
  readonly ctx: PhaseContext;
  readonly volumes: RunVolumes;
  /** Makes the volumes and the volume host and writes the platform env and the app; resolves with the context of the phases that use the volumes. */
  prepare(inputs: SessionInputs): Promise<PhaseContext>;
  /** An image of the session that must survive cleanup (the app image). */
  keepImage(id: string): void;
  /** The body created nothing (a reused image): cleanup has nothing to sweep. */
  createdNothing(): void;
}

/** /platform/env/<NAME> files (buildpack.md, "Environment Variable Modification Rules"), root-owned and read-only for modules. */
export function platformEnvEntries(env: Env): TarFileEntry[] {
  const entries: TarFileEntry[] = [{ path: 'env', type: 'directory', mode: 0o755 }];
  for (const [k, v] of Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1))) entries.push({ path: `env/${k}`, content: v, mode: 0o644 });
  return entries;
}

/** Waits for every promise; then rethrows the first failure (none is left running). */
async function settled(promises: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/**
 * A `--volume NAME:/path` whose volume does not exist yet would be made by the daemon on first use,
 * unlabelled, and left behind (issue 14). kiln makes it itself with the session's labels, so the
 * cleanup removes it; a volume that already exists is the user's and is kept.
 */
async function createMissingVolume(engine: ContainerEngine, name: string, labels: Labels): Promise<void> {
  if (!(await engine.volumeExists(name))) await engine.createVolume(name, labels);
}

/** The four volumes of a session. */
export function sessionVolumes(sessionId: string, extra: Mount[] = [], workspace?: string): RunVolumes {
  return { app: `kiln-${sessionId}-app`, layers: `kiln-${sessionId}-layers`, platform: `kiln-${sessionId}-platform`, scratch: `kiln-${sessionId}-scratch`, extra, ...(workspace !== undefined ? { appDir: workspace } : {}) };
}

async function prepareVolumes(ctx: PhaseContext, volumes: RunVolumes, inputs: SessionInputs): Promise<PhaseContext> {
  // Independent steps run concurrently; allSettled so that nothing is still creating containers when a
  // failure sends the session to cleanup.
  await settled([
    ...[volumes.app, volumes.layers, volumes.platform, volumes.scratch].map((v) => ctx.engine.createVolume(v, ctx.labels)),
    ...(volumes.extra ?? []).filter((m) => m.type === 'volume').map((m) => createMissingVolume(ctx.engine, m.source, ctx.labels)),
  ]);
  // One kept container mounts the volumes for every copy in or out (volume-io.ts VolumeHost); creating
  // it gives the app and layers volumes the CNB-user-owned /workspace and /layers of the builder. The
  // scratch volume takes /layers' ownership through a seed helper of its own (a volume is seeded by
  // whichever container first mounts it over an image directory, in either order).
  const hostCreated = createVolumeHost(ctx, inputs.builderImage, [
    { volume: volumes.app, target: APP_DIR },
    { volume: volumes.layers, target: LAYERS_DIR },
    { volume: volumes.platform, target: '/kiln-volumes/platform' },
    // Not an image path, so this mount does not seed it: the seed helper below does.
    { volume: volumes.scratch, target: '/kiln-volumes/scratch' },
  ]);
  await settled([hostCreated, seedVolumeFromImage(ctx, { volume: volumes.scratch, image: inputs.builderImage, path: LAYERS_DIR })]);
  const ready: PhaseContext = { ...ctx, volumeHost: await hostCreated };
  // The platform env and the app go in with one archive request, the app's files read as it is sent.
  await writeToVolumes(
    ready,
    [
      { volume: volumes.platform, image: inputs.builderImage, entries: platformEnvEntries(inputs.platformEnv) },
      { volume: volumes.app, image: inputs.builderImage, entries: appSourcePackEntries(resolve(inputs.appDir), inputs.user, inputs.include ?? [], inputs.exclude ?? []) },
    ],
    { show: APP_UPLOAD, pack: appPackOptions() },
  );
  return ready;
}

/** Removes every container, image (but keepImages) and volume of a session (also used by `kiln prune`). */
export async function cleanup(engine: ContainerEngine, session: string, keepImages: Set<string>, volumes: string[], reporter: Reporter): Promise<void> {
  const filter = { labels: [`${SESSION_LABEL}=${session}`] };
  const errors: unknown[] = [];
  const attempt = async (fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      errors.push(e);
    }
  };
  await attempt(async () => {
    for (const id of await engine.listContainers(filter)) await attempt(() => engine.removeContainer(id));
  });
  await attempt(async () => {
    // Children before parents: retry while that makes progress.
    let images = (await engine.listImages(filter)).filter((id) => !keepImages.has(id));
    for (let round = 0; round < 5 && images.length > 0; round++) {
      const left: string[] = [];
      for (const id of images) {
        try {
          await engine.removeImage(id, { force: true });
        } catch {
          left.push(id);
        }
      }
      if (left.length === images.length) break;
      images = left;
    }
  });
  await Promise.all(volumes.map((v) => attempt(() => engine.removeVolume(v))));
  await attempt(async () => {
    for (const v of await engine.listVolumes(filter)) await attempt(() => engine.removeVolume(v));
  });
  if (errors.length > 0) {
    const first = errors[0] instanceof Error ? ` (first: ${errors[0].message})` : '';
    reporter.emit({ type: 'warning', message: `cleanup left ${errors.length} problem(s)${first}; what carries label ${SESSION_LABEL}=${session} may be left behind: remove it with \`kiln prune\` once the daemon answers` });
  }
}

/** A session and its end. */
export interface OpenSession extends BuildSession {
  /** Removes what the session made (unless it created nothing), then releases the lock; never throws for a leftover (it warns). */
  close(): Promise<void>;
}

/**
 * Opens a session: its id and labels, and for a build the lock (a second build of the same cache volume
 * fails here, before anything is created). The caller must `close` it in a `finally`.
 */
export function openBuildSession(deps: SessionDeps, opts: SessionOptions = {}): OpenSession {
  const id = deps.ids.newId();
  const labels: Labels = { ...(opts.labels ?? {}), ...sessionLabels(id) };
  const ctx: PhaseContext = {
    engine: deps.engine,
    reporter: deps.reporter,
    labels,
    ids: deps.ids,
    ...(deps.signal !== undefined ? { signal: deps.signal } : {}),
    ...(opts.timeoutSeconds !== undefined ? { moduleTimeoutMs: opts.timeoutSeconds * 1000 } : {}),
    moduleLimits: effectiveLimits(opts.limits),
  };
  const volumes = sessionVolumes(id, opts.extraVolumes ?? [], opts.workspace);
  const keepImages = new Set<string>();
  let sweep = true;
  let prepared = false;
  const lock = opts.lock !== undefined ? lockCacheVolume(opts.lock.cacheVolume, opts.lock.image) : undefined;
  const leftoverCheck = opts.warnAboutLeftovers === true ? warnAboutDeadSessions(deps.engine, deps.reporter, opts.labels).catch(() => undefined) : undefined;
  return {
    id,
    labels,
    ctx,
    volumes,
    prepare: (inputs) => {
      prepared = true;
      return prepareVolumes(ctx, volumes, inputs);
    },
    keepImage: (image) => void keepImages.add(image),
    createdNothing: () => {
      sweep = false;
    },
    close: async () => {
      try {
        if (sweep) await cleanup(deps.engine, id, keepImages, prepared ? [volumes.app, volumes.layers, volumes.platform, volumes.scratch] : [], deps.reporter);
      } finally {
        lock?.release();
        await leftoverCheck;
      }
    },
  };
}

/** Runs `body` in a new session and closes the session afterwards, whatever happens. */
export async function withBuildSession<T>(deps: SessionDeps, opts: SessionOptions, body: (session: BuildSession) => Promise<T>): Promise<T> {
  const session = openBuildSession(deps, opts);
  try {
    return await body(session);
  } finally {
    await session.close();
  }
}
