/**
 * Image operations that talk the raw streaming endpoints (/build, /images/load, /images/create):
 * dialled directly so the query is exactly what we mean and the JSON stream is followed by us.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { BuildSpec, ImageInfo } from '../ports.js';
import { LineSplitter } from './line-splitter.js';
import { followJsonStream, type JsonMessage } from './json-stream.js';

// eslint-disable-next-line no-control-regex
const ANSI_SGR = /\u001b\[[0-9;]*m/g;

export function dialStream(docker: Docker, opts: Parameters<Docker['modem']['dial']>[0]): Promise<Readable> {
  return new Promise((resolve, reject) => {
    docker.modem.dial({ isStream: true, statusCodes: { 200: true, 400: 'bad parameter', 404: 'no such image', 500: 'server error' }, ...opts }, (err, res) => {
      if (err) reject(err);
      else resolve(res as Readable);
    });
  });
}

/** Splits a reference into repo and tag for the APIs that want them apart (`name:tag`, default latest). */
export function splitRef(ref: string): { repo: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: 'latest' };
}

export async function buildImageStream(docker: Docker, spec: BuildSpec): Promise<string | undefined> {
  const query: Record<string, unknown> = {
    dockerfile: spec.dockerfile,
    buildargs: JSON.stringify(spec.buildArgs),
    labels: JSON.stringify(spec.labels),
    networkmode: spec.network ?? 'none',
    rm: '1',
    forcerm: '1',
  };
  if (spec.tag !== undefined) query.t = spec.tag;
  if (spec.noCache === true) query.nocache = '1';
  // Each RUN step's container: no swap beyond the memory limit (module-limits.ts).
  if (spec.memoryBytes !== undefined) Object.assign(query, { memory: String(spec.memoryBytes), memswap: String(spec.memoryBytes) });
  const stream = await dialStream(docker, {
    path: '/build?',
    method: 'POST',
    options: { _query: query },
    file: spec.context,
    headers: { 'Content-Type': 'application/x-tar' },
    ...(spec.signal !== undefined ? { abortSignal: spec.signal } : {}),
  });
  let imageId: string | undefined;
  // Images this build commits (" ---> Running in <container>" ... " ---> <image>"; a step taken from the
  // daemon's cache says "Using cache" instead and made nothing): unlabelled, so a failed build removes them.
  const created: string[] = [];
  let stepRuns = false;
  // `stream` messages are fragments ("Step 1/3 : FROM x" then "\n"): join them into whole lines, and
  // drop the colour codes the classic builder wraps around a RUN's stderr.
  const lines = new LineSplitter((raw) => {
    const line = raw.replace(ANSI_SGR, '');
    const built = /^Successfully built ([0-9a-f]+)/.exec(line);
    if (built?.[1] !== undefined && imageId === undefined) imageId = built[1];
    if (/^ ---> Running in /.test(line)) stepRuns = true;
    else if (/^ ---> Using cache/.test(line)) stepRuns = false;
    const step = /^ ---> ([0-9a-f]{12,64})$/.exec(line.trimEnd());
    if (step?.[1] !== undefined) {
      if (stepRuns) created.push(step[1]);
      stepRuns = false;
    }
    spec.onLine?.(line);
  });
  const onMessage = (m: JsonMessage): void => {
    if (m.aux?.ID !== undefined) imageId = m.aux.ID;
    if (m.stream !== undefined) lines.write(Buffer.from(m.stream));
  };
  try {
    await followJsonStream(stream, onMessage, { keep: false });
  } catch (e) {
    lines.flush();
    await removeIntermediates(docker, created);
    throw e;
  } finally {
    lines.flush();
  }
  return imageId;
}

/**
 * Removes a failed build's step images, newest first, without pruning parents (the base and anything
 * not made by this build stay); one that another build already builds on (a child) is kept.
 */
async function removeIntermediates(docker: Docker, ids: string[]): Promise<void> {
  for (const id of [...ids].reverse()) {
    await docker.getImage(id).remove({ noprune: true }).catch(() => undefined);
  }
}

/** Refs and ids from "Loaded image: …" / "Loaded image ID: …" lines. */
export function loadedRefs(messages: JsonMessage[]): string[] {
  const refs: string[] = [];
  for (const m of messages) {
    for (const line of (m.stream ?? '').split('\n')) {
      const match = /^Loaded image(?: ID)?: (.+)$/.exec(line.trim());
      if (match?.[1] !== undefined) refs.push(match[1].trim());
    }
  }
  return refs;
}

interface RawInspect {
  Id?: unknown;
  RepoTags?: unknown;
  RepoDigests?: unknown;
  Os?: unknown;
  Architecture?: unknown;
  Variant?: unknown;
  RootFS?: { Layers?: unknown };
  Config?: { Env?: unknown; User?: unknown; WorkingDir?: unknown; Entrypoint?: unknown; Cmd?: unknown; Labels?: unknown; OnBuild?: unknown } | null;
  Size?: unknown;
  Created?: unknown;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const strsOrNull = (v: unknown): string[] | null => (Array.isArray(v) ? strs(v) : null);

export function toImageInfo(raw: RawInspect): ImageInfo {
  const c = raw.Config ?? {};
  const labels: Record<string, string> = {};
  if (typeof c.Labels === 'object' && c.Labels !== null) {
    for (const [k, v] of Object.entries(c.Labels as Record<string, unknown>)) if (typeof v === 'string') labels[k] = v;
  }
  const info: ImageInfo = {
    id: str(raw.Id),
    repoTags: strs(raw.RepoTags),
    repoDigests: strs(raw.RepoDigests),
    os: str(raw.Os),
    architecture: str(raw.Architecture),
    layers: strs(raw.RootFS?.Layers),
    config: {
      env: strs(c.Env),
      user: str(c.User),
      workingDir: str(c.WorkingDir),
      entrypoint: strsOrNull(c.Entrypoint),
      cmd: strsOrNull(c.Cmd),
      labels,
    },
    size: typeof raw.Size === 'number' ? raw.Size : 0,
    created: str(raw.Created),
  };
  if (typeof raw.Variant === 'string' && raw.Variant !== '') info.variant = raw.Variant;
  const onBuild = strs(c.OnBuild);
  if (onBuild.length > 0) info.config.onBuild = onBuild;
  return info;
}
