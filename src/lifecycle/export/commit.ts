/**
 * Committed layers (issue 5): a big launch layer goes into the daemon without passing through kiln.
 * A root container of the (extended) run image, with the layers volume mounted under /dev (a tmpfs, so
 * the mount point is not a change of the container's filesystem), copies the layer dir to its place,
 * gives it the layer's owner and mtime (platform.md, "Build Reproducibility": owner uid/gid, 1980-01-01T00:00:01Z, the parents
 * /layers and /layers/<bp> as our tars write them), and is committed: the daemon tars and applies the
 * change itself, which costs about what loading that layer does. Plain loads move every byte twice
 * more (out of the volume through kiln, then into the load's temp dir), so this is the path that
 * keeps a 1 GiB layer's export near a plain `docker load`.
 *
 * The layer must sit on the chain of everything below it: when that is not the image the container
 * would start from (a new small layer below it), an intermediate image with exactly those layers is
 * loaded first. Intermediate and committed images carry the session labels: build-app's cleanup
 * removes them; the app image keeps their layers. The daemon's tar of the change is not byte-for-byte
 * ours, so a committed layer's diffID differs from what a temp-file export of the same dir gives; it
 * is stable for the same content, and an unchanged rebuild reuses it by fingerprint anyway.
 *
 * Anything that goes wrong (a run image without sh, cp, chown, find or touch; a path already in the
 * run image) is a CommitFailed, and the caller streams the layers instead; an interrupt is not.
 */
import { isInterrupted, isKilnError } from '../../errors.js';
import type { ImageInfo } from '../../ports.js';
import type { ImagePlan } from './plan.js';
import { loadExportImage, type LayerFile } from './load.js';
import type { BigLayer } from './stream.js';
import type { PhaseContext } from '../phase-context.js';
import { REPRODUCIBLE_MTIME } from '../../image/tar-files.js';
import { runHelper } from '../container/helper-run.js';
import type { ShScript } from '../container/sh-script.js';

/** Where the copy container sees the layers volume. */
const SOURCE_MOUNT = '/dev/kiln-layers';
/** The fixed mtime of platform.md, "Build Reproducibility" (the one our tars write), in seconds. */
const LAYER_MTIME = REPRODUCIBLE_MTIME.getTime() / 1000;

export interface CommitOptions {
  layersVolume: string;
  /** The (extended) run image. */
  base: ImageInfo;
  layers: BigLayer[];
  /** The image plan, given the diffIDs found so far (placeholder -> diffID). */
  planFor: (diffIds: ReadonlyMap<string, string>) => ImagePlan;
  files: Map<string, LayerFile>;
  dir: string;
  previousImageId?: string;
}

export interface Committed {
  /** placeholder -> diffID of each committed layer. */
  diffIds: Map<string, string>;
  /** Layer lists of the images this made, for the final load's shipping plan. */
  chains: string[][];
}

export class CommitFailed extends Error {
  constructor(message: string) {
    super(`committing a layer failed: ${message}`);
    this.name = 'CommitFailed';
  }
}

/**
 * The copy script: the layer dir at its prefix, with the layer's owners, modes and mtime. Parameters
 * (sh-script.ts): source, destination, owner, then per parent dir its path, owner and octal mode. The
 * parent loop rotates its triples to the end, so they are in place again for the final touch.
 */
export function copyScript(layer: BigLayer): ShScript {
  const { placement } = layer;
  const parents = placement.parents ?? [];
  const script = [
    'set -e',
    'src=$1; dst=$2; owner=$3; shift 3',
    '[ -d "$src" ]',
    // Already in the run image: cp would nest or merge; the layer is streamed instead.
    `if [ -e "$dst" ] || [ -L "$dst" ]; then printf '%s is in the run image already\\n' "$dst" >&2; exit 3; fi`,
    // One command per line or per loop step: set -e does not stop inside an && list.
    'kiln_n=$(($# / 3))',
    'while [ "$kiln_n" -gt 0 ]; do mkdir -p "$1"; chown "$2" "$1"; chmod "$3" "$1"; set -- "$@" "$1" "$2" "$3"; shift 3; kiln_n=$((kiln_n - 1)); done',
    'cp -a "$src" "$dst"',
    'chown -R -h "$owner" "$dst"',
    // Devices and sockets are not layer entries (layer-normalise.ts).
    'find "$dst" \\( -type b -o -type c -o -type s \\) -exec rm -f {} +',
    `find "$dst" -exec touch -h -d @${LAYER_MTIME} {} +`,
    `while [ $# -gt 0 ]; do touch -h -d @${LAYER_MTIME} "$1"; shift 3; done`,
  ].join('\n');
  const args = [
    `${SOURCE_MOUNT}/${layer.volumePath}`,
    placement.prefix,
    `${placement.uid}:${placement.gid}`,
    ...parents.flatMap((p) => [p.path, `${p.uid}:${p.gid}`, p.mode.toString(8)]),
  ];
  return { script, args };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function interrupted(e: unknown): boolean {
  return isInterrupted(e);
}

/** Runs the copy on `image` and commits it; returns the new image's id and layers. */
async function commitOne(ctx: PhaseContext, opts: CommitOptions, image: string, layer: BigLayer): Promise<ImageInfo> {
  const output: string[] = [];
  const r = await runHelper(ctx, {
    image,
    script: copyScript(layer),
    name: 'kiln-commit',
    workingDir: '/',
    mounts: [{ type: 'volume', source: opts.layersVolume, target: SOURCE_MOUNT, readOnly: true }],
    commit: true,
    onLine: (_s, line) => void output.push(line),
  });
  if (r.exitCode !== 0 || r.imageId === undefined) throw new CommitFailed(`the copy of ${layer.volumePath} exited ${r.exitCode}${output.length > 0 ? `: ${output.slice(-3).join(' / ')}` : ''}`);
  const info = await ctx.engine.inspectImage(r.imageId);
  if (info === undefined) throw new CommitFailed(`the daemon does not know the committed image ${r.imageId}`);
  return info;
}

/** An image whose layers are exactly the plan's base and first `count` layers. */
async function intermediate(ctx: PhaseContext, opts: CommitOptions, plan: ImagePlan, count: number, chains: string[][]): Promise<{ id: string; layers: string[] }> {
  const partial: ImagePlan = { ...plan, layers: plan.layers.slice(0, count), config: { ...plan.config, labels: { ...ctx.labels } } };
  const id = await loadExportImage(ctx, {
    plan: partial,
    base: opts.base,
    files: opts.files,
    tags: [],
    dir: opts.dir,
    knownChains: chains,
    ...(opts.previousImageId !== undefined ? { previousImageId: opts.previousImageId } : {}),
  });
  return { id, layers: [...partial.baseLayers, ...partial.layers.map((l) => l.diffId)] };
}

/** Commits every layer of opts.layers, bottom to top; throws CommitFailed (or an interrupt) when one fails. */
export async function commitLayers(ctx: PhaseContext, opts: CommitOptions): Promise<Committed> {
  const diffIds = new Map<string, string>();
  const chains: string[][] = [];
  let current = { id: opts.base.id, layers: opts.base.layers };
  try {
    for (const layer of opts.layers) {
      const plan = opts.planFor(diffIds);
      const all = [...plan.baseLayers, ...plan.layers.map((l) => l.diffId)];
      const at = all.indexOf(layer.placeholder);
      if (at < plan.baseLayers.length) throw new CommitFailed(`${layer.volumePath} is not in the image plan`);
      const below = all.slice(0, at);
      if (!sameList(below, current.layers)) {
        current = await intermediate(ctx, opts, plan, at - plan.baseLayers.length, chains);
        chains.push(current.layers);
      }
      const start = Date.now();
      const info = await commitOne(ctx, opts, current.id, layer);
      if (info.layers.length !== below.length + 1 || !sameList(info.layers.slice(0, -1), below)) throw new CommitFailed(`the commit of ${layer.volumePath} did not add exactly one layer`);
      const diffId = info.layers[info.layers.length - 1] as string;
      ctx.reporter.emit({ type: 'debug', message: `layer ${layer.volumePath}: committed by the daemon in ${Date.now() - start} ms (${diffId})` });
      diffIds.set(layer.placeholder, diffId);
      chains.push(info.layers);
      current = { id: info.id, layers: info.layers };
    }
  } catch (e) {
    if (interrupted(e) || e instanceof CommitFailed) throw e;
    // A KilnError's action names the whole copy script; its cause is what went wrong.
    throw new CommitFailed(isKilnError(e) ? e.causeText : e instanceof Error ? e.message : String(e));
  }
  return { diffIds, chains };
}
