/**
 * Listings of layer dirs made INSIDE a container (issue 5): export predicts from them the exact size
 * of a layer's tar (image/layer-size.ts) so it can stream the layer into docker load. Nothing is read
 * through the host's filesystem: the daemon may be remote (DOCKER_HOST).
 *
 * The script uses only find, xargs, stat, tr, wc and mktemp with options that busybox and Debian's
 * coreutils/findutils share. Names may hold any byte but NUL and '/', newlines included, so a dir is
 * printed in two aligned halves, each one line per entry in `find` order:
 *
 *     LS-DIR <n> <dir>
 *     LS-M <raw mode hex> <size> <links> <inode>     n times (stat: no names, so always one line)
 *     <name>                                         n times, './x'; newlines in it printed as NUL
 *     LS-END <dir>
 *
 * The names are `find -print0` output with NUL and newline swapped by `tr`. A dir that is missing or
 * whose halves do not line up is simply absent from the parsed result (export then has no prediction
 * and writes that layer to a temp file). Known lossy spots, harmless because export verifies the size
 * it streams: the output is read as UTF-8 text lines, so invalid UTF-8 reads as U+FFFD (as tar-stream
 * reads it too) and a name ending in '\r' loses it.
 */
import type { ListedEntry, ListedKind } from '../../image/layer-size.js';
import { runCacheScript } from '../cache/cache-volume.js';
import { APP_DIR, LAYERS_DIR, type PhaseContext } from '../phase-context.js';
import type { ShScript } from '../container/sh-script.js';

export type { ListedEntry } from '../../image/layer-size.js';

/** A sh script printing the listing of each dir (absolute in-container paths, its parameters). */
export function listingScript(paths: string[]): ShScript {
  const fn = [
    'kiln_list() {',
    '  t=$(mktemp) || return 0',
    '  if [ -d "$1" ] && ( cd "$1" && find . -print0 ) > "$t"; then',
    `    printf 'LS-DIR %s %s\\n' "$(tr -dc '\\000' < "$t" | wc -c | tr -d ' ')" "$1"`,
    `    ( cd "$1" && xargs -0 -r stat -c 'LS-M %f %s %h %i' < "$t" ) || true`,
    `    tr '\\n\\000' '\\000\\n' < "$t"`,
    `    printf 'LS-END %s\\n' "$1"`,
    '  fi',
    '  rm -f "$t"',
    '}',
  ];
  return { script: [...fn, 'for p; do kiln_list "$p"; done'].join('\n'), args: paths };
}

function kindOf(rawModeHex: string): ListedKind {
  switch (parseInt(rawModeHex, 16) & 0xf000) {
    case 0x8000:
      return 'file';
    case 0x4000:
      return 'directory';
    case 0xa000:
      return 'symlink';
    case 0x1000:
      return 'fifo';
    case 0x2000:
      return 'char';
    case 0x6000:
      return 'block';
    case 0xc000:
      return 'socket';
    default:
      return 'other';
  }
}

const HEAD = /^LS-DIR (\d+) (.+)$/;
const META = /^LS-M ([0-9a-fA-F]+) (\d+) (\d+) (\d+)$/;

/** Parses the script's output (other lines around it are ignored): dir -> its entries. */
export function parseListings(lines: readonly string[]): Map<string, ListedEntry[]> {
  const out = new Map<string, ListedEntry[]>();
  let i = 0;
  while (i < lines.length) {
    const head = HEAD.exec(lines[i] as string);
    i++;
    if (head === null) continue;
    const n = Number(head[1]);
    const dir = head[2] as string;
    const metas = lines.slice(i, i + n).map((l) => META.exec(l));
    const names = lines.slice(i + n, i + 2 * n);
    if (metas.length !== n || names.length !== n || lines[i + 2 * n] !== `LS-END ${dir}` || metas.some((m) => m === null)) continue;
    i += 2 * n + 1;
    const entries = names.map((raw, k): ListedEntry => {
      const m = metas[k] as RegExpExecArray;
      const name = raw.replace(/\0/g, '\n');
      return { path: name === '.' ? '.' : name.replace(/^\.\//, ''), kind: kindOf(m[1] as string), size: Number(m[2]), nlink: Number(m[3]), ino: m[4] as string };
    });
    out.set(dir, entries);
  }
  return out;
}

/**
 * The listings keyed as ExportInput.listings wants them: launch layer dirs by their volume path
 * ("<bp>/<layer>"), /layers/sbom/launch as "sbom/launch", the app dir as "app".
 */
export function exportListings(byDir: ReadonlyMap<string, ListedEntry[]>): Record<string, ListedEntry[]> {
  const out: Record<string, ListedEntry[]> = {};
  for (const [dir, entries] of byDir) {
    if (dir === APP_DIR) out.app = entries;
    else if (dir.startsWith(`${LAYERS_DIR}/`)) out[dir.slice(LAYERS_DIR.length + 1)] = entries;
  }
  return out;
}

/**
 * Lists dirs of the layers volume (volume paths, "<bp>/<layer>") in one container, keyed like
 * ExportInput.listings. Export does this only for big layers it streams (export.ts withSizes).
 */
export async function listLayerDirs(ctx: PhaseContext, opts: { image: string; layers: string }, volumePaths: string[]): Promise<Record<string, ListedEntry[]>> {
  const lines = await runCacheScript(ctx, { image: opts.image, layers: opts.layers, ...listingScript(volumePaths.map((p) => `${LAYERS_DIR}/${p}`)) });
  return exportListings(parseListings(lines));
}
