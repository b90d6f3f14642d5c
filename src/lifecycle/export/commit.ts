/**
 * Committed layers (issue 5; the fast path of export/transport.ts): a big launch layer goes into the
 * daemon without passing through kiln. A root container of the (extended) run image, with the layers
 * volume mounted under /dev (a tmpfs, so the mount point is not a change of the container's
 * filesystem), copies the layer dir to its place, gives it the layer's owner and mtime (platform.md,
 * "Build Reproducibility": owner uid/gid, 1980-01-01T00:00:01Z, the parents /layers and /layers/<bp> as
 * our tars write them), and is committed: the daemon tars and applies the change itself, which costs
 * about what loading that layer does. A temp file moves every byte twice more (out of the volume
 * through kiln into the file, then into the load), so this is the path that keeps a 1 GiB layer's
 * export near a plain `docker load` (docs/architecture.md, "Export: how layers reach the daemon").
 *
 * The layer must sit on the chain of everything below it: when that is not the image the container
 * would start from (a new small layer below it), an intermediate image with exactly those layers is
 * loaded first. Intermediate and committed images carry the session labels: build-app's cleanup
 * removes them; the app image keeps their layers. The daemon's tar of the change is not byte-for-byte
 * ours, so a committed layer's diffID differs from what a temp file of the same dir gives; it is
 * stable for the same content on the same daemon, and an unchanged rebuild reuses it by fingerprint.
 *
 * CommitFailed means the run image cannot host the copy (no sh; the copy script's exit 3, 4 or 5: the
 * path in the run image already, a tool missing, no such dir): the same images give the same verdict
 * on every run, so the caller's fallback to temp files is deterministic. Anything else (the copy
 * failing otherwise, the daemon failing an intermediate load, a commit that did not add exactly one
 * layer, an interrupt) fails the export.
 */
import { isInterrupted, isKilnError } from '../../errors.js';
import type { ImageInfo } from '../../ports.js';
import type { ImagePlan } from './plan.js';
import { loadExportImage, type LayerFile } from './load.js';
import type { CommitLayer } from './transport.js';
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
  layers: CommitLayer[];
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
export function copyScript(layer: CommitLayer): ShScript {
  const { placement } = layer;
  const parents = placement.parents ?? [];
  const script = [
    'set -e',
    'src=$1; dst=$2; owner=$3; shift 3',
    // Exit 3, 4 and 5 say the run image (or the layer) cannot take this path (CANNOT_COPY): the same
    // images and content give them on every run, so the layer goes through a temp file instead.
    `for t in cp chown chmod mkdir find touch; do command -v "$t" >/dev/null 2>&1 || { printf 'the run image has no %s\\n' "$t" >&2; exit 4; }; done`,
    `[ -d "$src" ] || { printf '%s is not a dir\\n' "$src" >&2; exit 5; }`,
    // Already in the run image: cp would nest or merge; the layer goes through a temp file instead.
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

/** Exit codes of the copy script for "this run image (or layer) cannot be committed" (copyScript). */
const CANNOT_COPY = [3, 4, 5];

/** The daemon could not start the copy: the run image has no `sh` (the OCI runtime's words for it). */
function cannotStart(e: unknown): boolean {
  const text = isKilnError(e) ? `${e.causeText} ${e.message}` : e instanceof Error ? e.message : String(e);
  return /executable file not found|exec[^\n]*no such file or directory/i.test(text);
}

/** Runs the copy on `image` and commits it; returns the new image's id and layers. */
async function commitOne(ctx: PhaseContext, opts: CommitOptions, image: string, layer: CommitLayer): Promise<ImageInfo> {
  const output: string[] = [];
  const r = await runHelper(ctx, {
    image,
    script: copyScript(layer),
    name: 'kiln-commit',
    workingDir: '/',
    mounts: [{ type: 'volume', source: opts.layersVolume, target: SOURCE_MOUNT, readOnly: true }],
    commit: true,
    onLine: (_s, line) => void output.push(line),
  }).catch((e: unknown) => {
    if (isInterrupted(e)) throw e;
    if (cannotStart(e)) throw new CommitFailed(isKilnError(e) ? e.causeText : e instanceof Error ? e.message : String(e));
    throw e;
  });
  const said = output.length > 0 ? `: ${output.slice(-3).join(' / ')}` : '';
  if (CANNOT_COPY.includes(r.exitCode)) throw new CommitFailed(`the copy of ${layer.volumePath} exited ${r.exitCode}${said}`);
  // Any other failure (a full disk, a daemon fault) could pass on the next run: no fallback to another image id.
  if (r.exitCode !== 0) throw new Error(`the copy of ${layer.volumePath} into the run image exited ${r.exitCode}${said}`);
  if (r.imageId === undefined) throw new Error(`the daemon did not commit the copy of ${layer.volumePath}`);
  const info = await ctx.engine.inspectImage(r.imageId);
  if (info === undefined) throw new Error(`the daemon does not know the committed image ${r.imageId}`);
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

/**
 * Commits every layer of opts.layers, bottom to top. Throws CommitFailed when the run image cannot host
 * the copy (the caller writes temp files instead); any other error fails the export.
 */
export async function commitLayers(ctx: PhaseContext, opts: CommitOptions): Promise<Committed> {
  const diffIds = new Map<string, string>();
  const chains: string[][] = [];
  let current = { id: opts.base.id, layers: opts.base.layers };
  for (const layer of opts.layers) {
    const plan = opts.planFor(diffIds);
    const all = [...plan.baseLayers, ...plan.layers.map((l) => l.diffId)];
    const at = all.indexOf(layer.placeholder);
    if (at < plan.baseLayers.length) throw new Error(`${layer.volumePath} is not in the image plan`);
    const below = all.slice(0, at);
    if (!sameList(below, current.layers)) {
      current = await intermediate(ctx, opts, plan, at - plan.baseLayers.length, chains);
      chains.push(current.layers);
    }
    const start = Date.now();
    const info = await commitOne(ctx, opts, current.id, layer);
    if (info.layers.length !== below.length + 1 || !sameList(info.layers.slice(0, -1), below)) throw new Error(`the commit of ${layer.volumePath} did not add exactly one layer`);
    const diffId = info.layers[info.layers.length - 1] as string;
    ctx.reporter.emit({ type: 'debug', message: `layer ${layer.volumePath}: committed by the daemon in ${Date.now() - start} ms (${diffId})` });
    diffIds.set(layer.placeholder, diffId);
    chains.push(info.layers);
    current = { id: info.id, layers: info.layers };
  }
  return { diffIds, chains };
}
