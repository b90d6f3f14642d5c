/**
 * Reuse of extended images by content (issue 5 item 3). A Dockerfile application is keyed by what
 * determines its result — the kind, the base image id, the Dockerfile text, the build context's bytes,
 * the build args without build_id and the RUN steps' network — and the image it produced carries that key in the label
 * io.kiln.extend-cache. A later build with the same key takes that image and runs no Dockerfile build,
 * so its layers (and the app image id) are identical. A Dockerfile that uses build_id is never reused:
 * image_extension.md, "Phase: Extension" wants the steps from `ARG build_id` on to run again (the daemon's own step cache still
 * covers the steps before it). Cached images do NOT carry the session label, so session cleanup keeps
 * them; `--clear-cache` and `kiln cache prune` (or `docker image prune --filter label=io.kiln.extend-cache`)
 * remove them.
 */
import { createHash } from 'node:crypto';
import type { ExtendArg } from '../../cnb/models.js';
import type { PhaseContext } from '../phase-context.js';

export const EXTEND_CACHE_LABEL = 'io.kiln.extend-cache';

export interface ExtendKeyInput {
  kind: string;
  baseImageId: string;
  dockerfile: string;
  context: Buffer;
  args: ExtendArg[];
  /** The RUN steps' network: a build with the host's network is not the same build as one without. */
  network?: string;
}

/** Whether a Dockerfile refers to the build_id arg (then its result must not be reused). */
export function usesBuildId(dockerfile: string): boolean {
  return /\bbuild_id\b/.test(dockerfile);
}

/** sha256 (hex) over every input of one Dockerfile application except build_id. */
export function extendCacheKey(input: ExtendKeyInput): string {
  const h = createHash('sha256');
  const field = (name: string, value: string | Buffer): void => {
    const b = typeof value === 'string' ? Buffer.from(value) : value;
    h.update(`${name}:${b.length}:`);
    h.update(b);
  };
  field('kind', input.kind);
  field('base', input.baseImageId);
  field('dockerfile', input.dockerfile);
  field('context', createHash('sha256').update(input.context).digest('hex'));
  const args = input.args.filter((a) => a.name !== 'build_id').map((a) => `${a.name}=${a.value}`);
  field('args', JSON.stringify(args));
  if (input.network !== undefined && input.network !== 'none') field('network', input.network);
  return h.digest('hex');
}

/** The session label and its owner labels (`<session label>.pid`, …: app/session-owner.ts). */
function isSession(key: string, sessionLabel: string | undefined): boolean {
  return sessionLabel !== undefined && (key === sessionLabel || key.startsWith(`${sessionLabel}.`));
}

/**
 * The id of a cached image for `key` that carries the caller's own labels too (KILN_LABELS, test
 * labels: so separate runs or CI jobs do not take each other's images), if the daemon still has it.
 */
export async function findCachedImage(ctx: PhaseContext, key: string, sessionLabel?: string): Promise<string | undefined> {
  const own = Object.entries(ctx.labels).filter(([k]) => !isSession(k, sessionLabel)).map(([k, v]) => `${k}=${v}`);
  const ids = await ctx.engine.listImages({ labels: [`${EXTEND_CACHE_LABEL}=${key}`, ...own] });
  for (const id of ids.sort()) {
    // It may be removed between listing and use (a prune, another run's cleanup): then it is rebuilt.
    if ((await ctx.engine.inspectImage(id)) !== undefined) return id;
  }
  return undefined;
}

/** Labels for a cached extended image: the caller's labels without the session one, plus the key. */
export function cacheImageLabels(labels: Readonly<Record<string, string>>, key: string, sessionLabel: string): Record<string, string> {
  const out = Object.fromEntries(Object.entries(labels).filter(([k]) => !isSession(k, sessionLabel)));
  out[EXTEND_CACHE_LABEL] = key;
  return out;
}
