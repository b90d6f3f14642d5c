/**
 * Reuse of extended images by content (issue 5 item 3). A Dockerfile application is keyed by what
 * determines its result — the kind, the base image id, the Dockerfile text, the build context's bytes
 * (empty for a Dockerfile that cannot read it, image/dockerfile-context.ts),
 * the build args without build_id and the RUN steps' network — and the image it produced carries that key in the label
 * io.kiln.extend-cache. A later build with the same key takes that image and runs no Dockerfile build,
 * so its layers (and the app image id) are identical. A Dockerfile that uses build_id is never reused:
 * image_extension.md, "Phase: Extension" wants the steps from `ARG build_id` on to run again (the daemon's own step cache still
 * covers the steps before it). Cached images do NOT carry the session label, so session cleanup keeps
 * them; each is tagged kiln.local/extend-cache:<hash> (cacheTag), which finds it even when it is the
 * parent of another image; `--clear-cache` and `kiln prune --extended` remove them.
 */
import { createHash } from 'node:crypto';
import type { ExtendArg } from '../../cnb/models.js';
import type { PhaseContext } from '../phase-context.js';

import { EXTEND_CACHE_LABEL } from '../../cnb/labels.js';

/** The repository of the tags cached extended images are kept under (cacheTag). */
export const EXTEND_CACHE_REPO = 'kiln.local/extend-cache';

export { EXTEND_CACHE_LABEL };

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
  const own = ownLabels(ctx, sessionLabel);
  // By its tag first: a cached image that is the parent of another (the prepared run base, an earlier
  // extension's result) is hidden from a plain image list, but its tag finds it.
  const tagged = await ctx.engine.inspectImage(cacheTag(key, own));
  if (tagged !== undefined && tagged.config.labels[EXTEND_CACHE_LABEL] === key) return tagged.id;
  const ids = await ctx.engine.listImages({ labels: [`${EXTEND_CACHE_LABEL}=${key}`, ...own] });
  for (const id of ids.sort()) {
    // It may be removed between listing and use (a prune, another run's cleanup): then it is rebuilt.
    if ((await ctx.engine.inspectImage(id)) !== undefined) return id;
  }
  return undefined;
}

/** The caller's own labels (KILN_LABELS, test labels) as sorted `k=v`, without the session's. */
function ownLabels(ctx: PhaseContext, sessionLabel: string | undefined): string[] {
  return Object.entries(ctx.labels).filter(([k]) => !isSession(k, sessionLabel)).map(([k, v]) => `${k}=${v}`).sort();
}

/** The tag a cached image is kept under, for its key and the caller's own labels (so runs with other labels do not share it). */
export function cacheTag(key: string, own: readonly string[]): string {
  return `${EXTEND_CACHE_REPO}:${createHash('sha256').update(`${key}\n${own.join('\n')}`).digest('hex').slice(0, 40)}`;
}

/**
 * Tags a newly built cached image (cacheTag), so the next build finds it even when it has become the
 * parent of another image, and `docker image prune` keeps it. `kiln prune --extended` and --clear-cache
 * remove it (by label, with its tag). A failed tag only costs a rebuild next time.
 */
export async function keepCachedImage(ctx: PhaseContext, key: string, imageId: string, sessionLabel?: string): Promise<void> {
  await ctx.engine.tagImage(imageId, cacheTag(key, ownLabels(ctx, sessionLabel))).catch(() => undefined);
}

/** Labels for a cached extended image: the caller's labels without the session one, plus the key. */
export function cacheImageLabels(labels: Readonly<Record<string, string>>, key: string, sessionLabel: string): Record<string, string> {
  const out = Object.fromEntries(Object.entries(labels).filter(([k]) => !isSession(k, sessionLabel)));
  out[EXTEND_CACHE_LABEL] = key;
  return out;
}
