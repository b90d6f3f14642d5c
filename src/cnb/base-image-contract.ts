/**
 * What a base image must hold for kiln to work with it, in one place (issue 16 point 4): the programs
 * kiln's own scripts run in containers of the build image (the module prelude, the cache and
 * fingerprint helpers, the renames of ignored layers) and of the run
 * image (the launcher, lifecycle/launcher/launcher-script.ts). `kiln stack create` and `kiln builder
 * create` check it (app/base-image-check.ts) and name what is missing. The environment part of the
 * contract (CNB_USER_ID, CNB_GROUP_ID, a non-root USER; platform.md, "Build Image", "Run Image") is
 * checked where it is read (app/create-builder.ts cnbUserFromEnv).
 */
export type BaseImageKind = 'build' | 'run';

export interface ContractProgram {
  /** Looked up with `command -v` on the image's PATH (a shell builtin counts). */
  name: string;
  /** Which part of kiln runs it, for the error. */
  usedBy: string;
}

const PRELUDE = 'the module prelude (lifecycle/container/module-env.ts)';
const CACHE = 'the cache helpers (lifecycle/cache/)';
const FINGERPRINT = 'the layer fingerprints (lifecycle/cache/fingerprint.ts)';
const LAUNCHER = 'the launcher (lifecycle/launcher/launcher-script.ts)';

/** Every program a build image must have; `sh` first, since every other check runs in it. */
export const BUILD_IMAGE_PROGRAMS: readonly ContractProgram[] = [
  { name: 'sh', usedBy: `${PRELUDE}, ${CACHE}` },
  { name: 'mkdir', usedBy: `${PRELUDE}, ${CACHE}` },
  { name: 'rm', usedBy: `${PRELUDE}, ${CACHE}` },
  { name: 'chmod', usedBy: PRELUDE },
  { name: 'printf', usedBy: PRELUDE },
  { name: 'env', usedBy: PRELUDE },
  { name: 'mv', usedBy: `${CACHE}, the renames of ignored layers (lifecycle/build.ts)` },
  { name: 'cp', usedBy: CACHE },
  { name: 'find', usedBy: FINGERPRINT },
  { name: 'sort', usedBy: FINGERPRINT },
  { name: 'xargs', usedBy: FINGERPRINT },
  { name: 'stat', usedBy: FINGERPRINT },
  { name: 'md5sum', usedBy: FINGERPRINT },
  { name: 'sha256sum', usedBy: FINGERPRINT },
  { name: 'cut', usedBy: FINGERPRINT },
  { name: 'sleep', usedBy: FINGERPRINT },
];

/**
 * Every program a run image must have. Export's fast path for big layers (lifecycle/export/commit.ts)
 * also uses cp, chown, chmod, mkdir, find and touch there, but writes big layers to temp files without them.
 */
export const RUN_IMAGE_PROGRAMS: readonly ContractProgram[] = [
  { name: 'sh', usedBy: LAUNCHER },
  { name: 'cat', usedBy: LAUNCHER },
  { name: 'tr', usedBy: `${LAUNCHER} (exec.d output)` },
  { name: 'sed', usedBy: `${LAUNCHER} (exec.d output)` },
];

export function contractPrograms(kind: BaseImageKind): readonly ContractProgram[] {
  return kind === 'build' ? BUILD_IMAGE_PROGRAMS : RUN_IMAGE_PROGRAMS;
}

/** A script printing `MISSING <name>` for each parameter that is not a command on PATH (sh-script.ts: names are parameters). */
export function missingProgramsScript(kind: BaseImageKind): { script: string; args: string[] } {
  return {
    script: 'for p; do command -v "$p" >/dev/null 2>&1 || printf \'MISSING %s\\n\' "$p"; done',
    args: contractPrograms(kind).map((p) => p.name),
  };
}

/** The programs the script's output names as missing, in contract order. */
export function missingPrograms(kind: BaseImageKind, lines: readonly string[]): ContractProgram[] {
  const missing = new Set(lines.filter((l) => l.startsWith('MISSING ')).map((l) => l.slice('MISSING '.length).trim()));
  return contractPrograms(kind).filter((p) => missing.has(p.name));
}
