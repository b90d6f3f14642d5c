/**
 * Content fingerprints of layer dirs, computed INSIDE a container (nothing streams through the host):
 * every path with its type+mode (`stat %f`) and symlink target (`%N`), plus the md5 of every regular
 * file, hashed with sha256. Owners and mtimes are left out because export's tars normalise both
 * (platform.md, "Build Reproducibility"), so equal fingerprints mean equal layer tars; export then takes the diffID recorded for
 * that fingerprint (cache/cache-volume.ts `diffIds`) instead of tarring the dir again (issue 5 item 2).
 */
import type { ShScript } from '../container/sh-script.js';

const FP_FUNCTION = [
  'fp() {',
  '  ( cd "$1" && { find . -print0 | LC_ALL=C sort -z | xargs -0 stat -c "%n|%f|%N"; find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r md5sum; } | sha256sum | cut -d" " -f1 )',
  '}',
];

/**
 * The sh function `fp DIR` plus one output line per path (the parameters, sh-script.ts): `FP <path> <hex>`,
 * or `FP <path> -` when absent.
 */
export function fingerprintScript(paths: string[]): ShScript {
  const body = `for p; do if [ -d "$p" ]; then printf 'FP %s %s\\n' "$p" "$(fp "$p")"; else printf 'FP %s -\\n' "$p"; fi; done`;
  return { script: [...FP_FUNCTION, body].join('\n'), args: paths };
}

/**
 * The post-build probe (cache/steps.ts startFingerprintProbe): waits until `marker` exists (the last
 * build container creates it when bin/build succeeded), then prints `FP <dir> <hex>` for every layer dir
 * of the given buildpack dirs that has a <layer>.toml, and for `appDir`. Parameters: marker, app dir,
 * then the buildpack dirs.
 */
export function probeScript(marker: string, bpDirs: string[], appDir: string): ShScript {
  const script = [
    ...FP_FUNCTION,
    'kiln_marker=$1; kiln_app=$2; shift 2',
    'while [ ! -e "$kiln_marker" ]; do sleep 0.05 2>/dev/null || sleep 1; done',
    `for d; do for t in "$d"/*.toml; do l="\${t%.toml}"; if [ -d "$l" ]; then printf 'FP %s %s\\n' "$l" "$(fp "$l")"; fi; done; done`,
    `printf 'FP %s %s\\n' "$kiln_app" "$(fp "$kiln_app")"`,
  ];
  return { script: script.join('\n'), args: [marker, appDir, ...bpDirs] };
}

/** Parses the script's output; absent dirs are left out. */
export function parseFingerprints(lines: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    const m = /^FP (.+) ([0-9a-f]{64})$/.exec(line);
    if (m !== null) out.set(m[1] as string, m[2] as string);
  }
  return out;
}
