/**
 * Content fingerprints of layer dirs, computed INSIDE a container (nothing streams through the host):
 * every path with its type+mode (`stat %f`) and symlink target (`%N`), plus the md5 of every regular
 * file, hashed with sha256. Owners and mtimes are left out because export's tars normalise both
 * (digest 8.3), so equal fingerprints mean equal layer tars; export then takes the diffID recorded for
 * that fingerprint (cache.ts `diffIds`) instead of tarring the dir again (issue 5 item 2).
 */
import { shq } from './cache.js';

const FP_FUNCTION = [
  'fp() {',
  '  ( cd "$1" && { find . -print0 | LC_ALL=C sort -z | xargs -0 stat -c "%n|%f|%N"; find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r md5sum; } | sha256sum | cut -d" " -f1 )',
  '}',
];

/** The sh function `fp DIR` plus one output line per path: `FP <path> <hex>` or `FP <path> -` when absent. */
export function fingerprintScript(paths: string[]): string {
  const fn = FP_FUNCTION;
  const body = paths.map((p) => `if [ -d ${shq(p)} ]; then echo "FP ${p} $(fp ${shq(p)})"; else echo "FP ${p} -"; fi`);
  return [...fn, ...body].join('\n');
}

/**
 * The post-build probe (cache-steps.ts startFingerprintProbe): waits until `marker` exists (the last
 * build container creates it when bin/build succeeded), then prints `FP <dir> <hex>` for every layer dir
 * of the given buildpack dirs that has a <layer>.toml, and for `appDir`.
 */
export function probeScript(marker: string, bpDirs: string[], appDir: string): string {
  const wait = `while [ ! -e ${shq(marker)} ]; do sleep 0.05 2>/dev/null || sleep 1; done`;
  const layers = bpDirs.map((d) => `for t in ${shq(d)}/*.toml; do l="\${t%.toml}"; if [ -d "$l" ]; then echo "FP $l $(fp "$l")"; fi; done`);
  return [...FP_FUNCTION, wait, ...layers, `echo "FP ${appDir} $(fp ${shq(appDir)})"`].join('\n');
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
