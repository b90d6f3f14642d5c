/**
 * Unchanged inputs, unchanged output (issue 21, README "Rebuilds and the cache"): the input key of a
 * build, and the reuse of the previous image of the same name when it carries the same key.
 *
 * The key is a sha256 over: kiln's version, the builder image id (which covers every buildpack and
 * extension module, their Dockerfiles' generators included), the id of the run image the build starts
 * from, the app source as kiln sends it (lifecycle/app-fingerprint.ts), the platform env (project.toml
 * build env, --env-file, --env), the project descriptor, SOURCE_DATE_EPOCH and every request field that
 * can change the result (all of BuildRequest except those listed in NOT_KEYED, so a new flag is keyed
 * unless someone decides otherwise). Which run image an extension switches to is only known after
 * generate: it is recorded on the image (INPUT_IMAGES_LABEL) and its current id re-checked before reuse.
 * Images an extension extends FROM are the builder and the (possibly switched) run image: covered above.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { kilnCacheDir } from '../kiln-cache-dir.js';
import { decodeLifecycleMetadata, LIFECYCLE_METADATA_LABEL } from '../image/lifecycle-labels.js';
import { fingerprintApp } from '../lifecycle/app-fingerprint.js';
import { CACHE_LABEL, INPUT_IMAGES_LABEL, INPUT_KEY_LABEL } from '../lifecycle/cache/cache-volume.js';
import type { Env } from '../lifecycle/container/module-env.js';
import type { ContainerEngine, ImageInfo, Labels, Reporter } from '../ports.js';
import type { ProjectDescriptor } from '../cnb/models.js';
import type { BuildRequest, PhasesResult } from './build-request.js';
import { summariseAppImage } from './inspect-app.js';

/** Bumped when what the key covers changes, so keys of older kilns never match. */
const KEY_SCHEMA = 1;

/**
 * Request fields that are not keyed: covered otherwise (env: the platform env; path: the app fingerprint;
 * builder: its image id, which is the ephemeral builder's when modules are added, so their content is
 * keyed) or not changing the image (the image name itself: a key is only ever compared with the previous
 * image of the same name; the further tags, which the CLI writes on a reused image too). --network and --volume ARE keyed: an image built with them
 * carries a key no build without them computes.
 */
const NOT_KEYED: ReadonlySet<string> = new Set(['env', 'path', 'builder', 'image', 'cacheVolume', 'labels', 'timeoutSeconds', 'noReuse', 'clearCache', 'tags', 'sbomOutputDir']);

let version: string | undefined;
/** kiln's version from its package.json (src/app and dist/app are both two levels below it). */
export function kilnVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

/** Why reuse is off for this request (the build can see something outside its inputs), or undefined. */
export function reuseOffReason(req: BuildRequest): string | undefined {
  if (req.noReuse === true) return '--no-reuse';
  if (req.clearCache === true) return '--clear-cache';
  if (req.network !== undefined && req.network !== 'none') return `--network ${req.network}`;
  if (req.volumes.length > 0) return '--volume';
  // The build's SBOM files exist only while it runs (buildpack.md, "Software-Bill-of-Materials").
  if (req.sbomOutputDir !== undefined) return '--sbom-output-dir';
  return undefined;
}

/** JSON with object keys sorted, so equal values always give equal text. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export interface InputKeyParts {
  kilnVersion: string;
  builderId: string;
  runImage: { ref: string; id: string };
  /** The app fingerprint's digest. */
  app: string;
  platformEnv: Env;
  project: ProjectDescriptor | undefined;
  request: BuildRequest;
  sourceDateEpoch: string | undefined;
}

/** The key (pure). */
export function inputKeyOf(parts: InputKeyParts): string {
  const request = Object.fromEntries(Object.entries(parts.request).filter(([k]) => !NOT_KEYED.has(k)));
  const text = canonical({ schema: KEY_SCHEMA, ...parts, request });
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** The stat index of one app dir built as one image (app-fingerprint.ts), in kiln's cache dir. */
export function appIndexFile(image: string, dir: string): string {
  return kilnCacheDir('app-index', `${createHash('sha256').update(`${image}\0${resolve(dir)}`).digest('hex').slice(0, 24)}.json`);
}

/** The labels a build with this key writes on its image; `switchedRunImage` when an extension switched it. */
export function inputKeyLabels(key: string, switchedRunImage: { ref: string; id: string } | undefined): Labels {
  return { [INPUT_KEY_LABEL]: key, [INPUT_IMAGES_LABEL]: JSON.stringify(switchedRunImage !== undefined ? [switchedRunImage] : []) };
}

/** The previous image when it can stand for this build: same key, recorded images unchanged, cache volume still there. */
export async function reusableImage(engine: ContainerEngine, opts: { image: string; key: string; cacheVolume: string }): Promise<ImageInfo | undefined> {
  const info = await engine.inspectImage(opts.image);
  if (info === undefined || info.config.labels[INPUT_KEY_LABEL] !== opts.key) return undefined;
  let recorded: { ref: string; id: string }[];
  try {
    recorded = JSON.parse(info.config.labels[INPUT_IMAGES_LABEL] ?? '') as { ref: string; id: string }[];
  } catch {
    return undefined;
  }
  for (const r of recorded) if ((await engine.inspectImage(r.ref))?.id !== r.id) return undefined;
  if (!(await engine.listVolumes({ labels: [CACHE_LABEL] })).includes(opts.cacheVolume)) return undefined;
  return info;
}

/** The build outcome of a reused image, read back from its labels (as `kiln inspect` does). */
export function reusedOutcome(image: string, info: ImageInfo, cacheVolume: string): PhasesResult {
  const s = summariseAppImage(image, info, decodeLifecycleMetadata(info.config.labels[LIFECYCLE_METADATA_LABEL] ?? ''));
  return {
    imageId: info.id,
    group: s.buildpacks.map((b) => ({ id: b.id, version: b.version, api: '' })),
    groupExtensions: s.extensions.map((e) => ({ id: e.id, version: e.version, api: '' })),
    processes: s.processes.map((p) => p.type),
    ...(s.defaultProcess !== undefined ? { defaultProcessType: s.defaultProcess } : {}),
    runImage: s.runImage.image,
    warnings: [],
    export: { imageId: info.id, tags: [image], layers: info.layers, labels: info.config.labels },
    dockerBuilds: 0,
    cacheVolume,
  };
}

export interface ReuseInput {
  req: BuildRequest;
  builderId: string;
  runImage: { ref: string; id: string };
  project: ProjectDescriptor | undefined;
  platformEnv: Env;
  cacheVolume: string;
}

/**
 * The build's input key (written on the image by every build, so a --no-reuse or --clear-cache build
 * gives the same image id as any other), and the previous image's outcome when it can be reused: never
 * when reuseOffReason names a reason.
 */
export async function checkReuse(engine: ContainerEngine, reporter: Reporter, input: ReuseInput): Promise<{ key?: string; reused?: PhasesResult }> {
  const project = input.project;
  let app: ReturnType<typeof fingerprintApp>;
  try {
    app = fingerprintApp(resolve(input.req.path), { include: project?.include ?? [], exclude: project?.exclude ?? [], indexFile: appIndexFile(input.req.image, input.req.path) });
  } catch (e) {
    // An unreadable app is reported by the build itself (app-source.ts), with its own error.
    reporter.emit({ type: 'debug', message: `input key off: could not fingerprint the app (${(e as Error).message})` });
    return {};
  }
  reporter.emit({ type: 'debug', message: `app fingerprint: ${app.entries} entries, ${app.hashed} read` });
  const key = inputKeyOf({ kilnVersion: kilnVersion(), builderId: input.builderId, runImage: input.runImage, app: app.digest, platformEnv: input.platformEnv, project, request: input.req, sourceDateEpoch: process.env.SOURCE_DATE_EPOCH });
  const off = reuseOffReason(input.req);
  if (off !== undefined) {
    reporter.emit({ type: 'debug', message: `no reuse of the previous image: ${off}` });
    return { key };
  }
  const info = await reusableImage(engine, { image: input.req.image, key, cacheVolume: input.cacheVolume });
  if (info === undefined) return { key };
  reporter.emit({ type: 'info', message: `inputs unchanged: reusing ${info.id}` });
  return { key, reused: reusedOutcome(input.req.image, info, input.cacheVolume) };
}
