/**
 * PURE: the environment one module process sees (buildpack.md, "Buildpack Interface"; platform.md, "Buildpack Environment"; buildpack.md, "Positional Arguments to `detect` and `build` Executables").
 *
 * The real lifecycle runs inside the builder container, so "the lifecycle's own environment" is the
 * builder image's ENV plus what Docker adds (HOME, HOSTNAME). Of that, only an allow-list reaches a
 * module; the module-specific CNB_* variables are added per module API. kiln runs the lifecycle on the
 * host, so it reproduces this by computing the env here and, in the container, unsetting every image
 * ENV variable that is not in the final env (`env -u NAME ... <exe> <args>`, see moduleCommand).
 */
import { shArgv } from './sh-script.js';
import { buildpackApi } from '../../cnb/api-features.js';
import type { ModuleKind } from '../../cnb/models.js';

export type Env = Record<string, string>;

/** Variables a module inherits from the lifecycle's environment (platform.md, "Buildpack Environment", lifecycle env/build.go). */
export const ALLOWED_OUTER_ENV: readonly string[] = [
  'HOME',
  'HOSTNAME',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'CNB_STACK_ID',
  'PATH',
  'LD_LIBRARY_PATH',
  'LIBRARY_PATH',
  'CPATH',
  'PKG_CONFIG_PATH',
];

/** The path-like variables: root-dir and user platform env prepend to them with ':' (buildpack.md, "Environment Variable Modification Rules"). */
export const PATH_LIKE_VARS: readonly string[] = ['PATH', 'LD_LIBRARY_PATH', 'LIBRARY_PATH', 'CPATH', 'PKG_CONFIG_PATH'];

/** Image ENV ("K=V" strings) as a map; a later duplicate wins, like Docker. */
export function parseImageEnv(imageEnv: readonly string[]): Env {
  const out: Env = {};
  for (const kv of imageEnv) {
    const i = kv.indexOf('=');
    if (i <= 0) continue;
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** The allow-listed part of the outer (builder image) env: the starting point of every module env. */
export function allowedOuterEnv(imageEnv: readonly string[]): Env {
  const all = parseImageEnv(imageEnv);
  const out: Env = {};
  for (const k of ALLOWED_OUTER_ENV) {
    const v = all[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** The run image's target, exposed as CNB_TARGET_* (buildpack.md, "Targets" under "Provided by the Lifecycle", API >= 0.10). */
export interface TargetVars {
  os: string;
  arch: string;
  variant?: string;
  distroName?: string;
  distroVersion?: string;
}

export type ModulePhase = 'detect' | 'generate' | 'build';

export interface ModuleVarsInput {
  phase: ModulePhase;
  kind: ModuleKind;
  /** Module (Buildpack) API, "0.x". */
  api: string;
  /** The module's directory, /cnb/buildpacks/<escaped-id>/<version>. */
  moduleDir: string;
  platformDir: string;
  /** detect: CNB_BUILD_PLAN_PATH (writable); generate/build: CNB_BP_PLAN_PATH (read-only). */
  planPath: string;
  /** build: <layers>/<escaped-id>. */
  layersDir?: string;
  /** generate: the output directory. */
  outputDir?: string;
  target?: TargetVars;
  /** CNB_EXEC_ENV (default "production"). */
  execEnv?: string;
}

/**
 * The module-specific CNB_* variables, gated by module API exactly as in the tables of buildpack.md, "Buildpack Interface":
 * CNB_BUILDPACK_DIR / CNB_EXTENSION_DIR always; CNB_PLATFORM_DIR, CNB_BUILD_PLAN_PATH, CNB_BP_PLAN_PATH,
 * CNB_LAYERS_DIR from 0.8 (generate only exists from 0.9, so always); CNB_TARGET_* from 0.10;
 * CNB_EXEC_ENV from 0.12 for detect and build only.
 */
export function moduleCnbVars(input: ModuleVarsInput): Env {
  const out: Env = {};
  const { api, phase } = input;
  out[input.kind === 'extension' ? 'CNB_EXTENSION_DIR' : 'CNB_BUILDPACK_DIR'] = input.moduleDir;
  const v08 = phase === 'generate' || buildpackApi(api).supports('cnb-dir-env');
  if (v08) out.CNB_PLATFORM_DIR = input.platformDir;
  if (phase === 'detect' && v08) out.CNB_BUILD_PLAN_PATH = input.planPath;
  if (phase !== 'detect' && v08) out.CNB_BP_PLAN_PATH = input.planPath;
  if (phase === 'build' && v08 && input.layersDir !== undefined) out.CNB_LAYERS_DIR = input.layersDir;
  if (phase === 'generate' && input.outputDir !== undefined) out.CNB_OUTPUT_DIR = input.outputDir;
  if (input.target !== undefined && buildpackApi(api).supports('targets')) {
    const t = input.target;
    out.CNB_TARGET_OS = t.os;
    out.CNB_TARGET_ARCH = t.arch;
    if (t.variant) out.CNB_TARGET_ARCH_VARIANT = t.variant;
    if (t.distroName) out.CNB_TARGET_DISTRO_NAME = t.distroName;
    if (t.distroVersion) out.CNB_TARGET_DISTRO_VERSION = t.distroVersion;
  }
  if (phase !== 'generate' && buildpackApi(api).supports('exec-env')) out.CNB_EXEC_ENV = input.execEnv ?? 'production';
  return out;
}

/** Positional arguments (buildpack.md, "Positional Arguments to `detect` and `build` Executables": still passed for every API). */
export function moduleArgs(phase: ModulePhase, p: { platformDir: string; planPath: string; layersDir?: string; outputDir?: string }): string[] {
  if (phase === 'detect') return [p.platformDir, p.planPath];
  if (phase === 'generate') return [p.outputDir ?? '', p.platformDir, p.planPath];
  return [p.layersDir ?? '', p.platformDir, p.planPath];
}

/** A file the module's container writes before the module starts (as the CNB user, so it owns it). */
export interface PreludeFile {
  /** Absolute path in the container. */
  path: string;
  content: string;
  /** Final mode, e.g. 0o444 for a plan the module may only read (buildpack.md, "Buildpack Interface"). */
  mode: number;
}

/** Directories (mkdir -p) and files to create in the container before the module runs. */
export interface Prelude {
  dirs: string[];
  files: PreludeFile[];
  /**
   * Created (empty) once the module exited 0; the module then no longer replaces the shell, which exits
   * with the module's code. Lets a waiting helper start the moment the build is done (cache/steps.ts).
   */
  doneFile?: string;
}

/** Variables a POSIX shell adds to what it passes on (busybox ash: SHLVL and PWD; others: OLDPWD, _). */
const SHELL_VARS = ['OLDPWD', 'PWD', 'SHLVL', '_'];

/**
 * The prelude's fixed script. Its parameters (preludeArgs): the number of dirs and the dirs; the number
 * of files and, per file, its path, octal mode and content; the done file ('' for none); then the
 * command it runs. set -e: a failing step stops before the module runs.
 */
export const PRELUDE_SCRIPT = [
  'set -e',
  'kiln_n=$1; shift',
  'while [ "$kiln_n" -gt 0 ]; do mkdir -p "$1"; shift; kiln_n=$((kiln_n - 1)); done',
  'kiln_n=$1; shift',
  'while [ "$kiln_n" -gt 0 ]; do rm -f "$1"; printf \'%s\' "$3" > "$1"; chmod "$2" "$1"; shift 3; kiln_n=$((kiln_n - 1)); done',
  'kiln_done=$1; shift',
  'if [ -z "$kiln_done" ]; then exec "$@"; fi',
  '"$@" || exit $?',
  ': > "$kiln_done"',
  'exit 0',
].join('\n');

/**
 * PRELUDE_SCRIPT for a module run by exec in a kept container (module-hosts.ts): the module never
 * replaces the shell, and once it exits, whatever it left running is killed (`kill -9 -1`: every process
 * of the CNB user but the shell and the container's pid 1), as removing its own container would; the
 * shell then exits with the module's code (128 + n for a death by signal, as a container's would be).
 */
export const KEPT_PRELUDE_SCRIPT = [
  ...PRELUDE_SCRIPT.split('\n').slice(0, 6),
  'set +e',
  '"$@"',
  'kiln_code=$?',
  'kill -9 -1 2>/dev/null',
  'if [ "$kiln_code" -eq 0 ] && [ -n "$kiln_done" ]; then : > "$kiln_done" || exit 1; fi',
  'exit "$kiln_code"',
].join('\n');

/** PRELUDE_SCRIPT's parameters before the command (sh-script.ts: values are never script text). */
export function preludeArgs(p: Prelude): string[] {
  return [
    String(p.dirs.length),
    ...p.dirs,
    String(p.files.length),
    ...p.files.flatMap((f) => [f.path, (f.mode & 0o7777).toString(8), f.content]),
    p.doneFile ?? '',
  ];
}

/**
 * The container command that gives the module exactly `env`: Docker merges the image ENV into the
 * container env, so every image variable that `env` does not define is removed with `env -u` (needs an
 * `env` binary on the image's PATH; busybox and Debian have one). Without such variables the executable
 * runs directly.
 * With a prelude (plan files, the module's own dirs), `sh -c` first creates those, in the module's own
 * container: no archive round trip per input (issue 5, warm rebuilds). The shell's own variables are
 * then removed too, and ones `env` defines are set again explicitly, so the module still sees exactly `env`.
 */
export function moduleCommand(imageEnv: readonly string[], env: Env, exe: string, args: readonly string[], prelude?: Prelude, opts: { kept?: boolean } = {}): string[] {
  const kept = opts.kept === true;
  const shell = kept || (prelude !== undefined && (prelude.dirs.length > 0 || prelude.files.length > 0 || prelude.doneFile !== undefined));
  const unset = new Set(Object.keys(parseImageEnv(imageEnv)).filter((k) => !(k in env)));
  if (shell) for (const k of SHELL_VARS) if (!(k in env)) unset.add(k);
  const unsets = [...unset].sort().flatMap((k) => ['-u', k]);
  if (!shell) return unsets.length === 0 ? [exe, ...args] : ['env', ...unsets, exe, ...args];
  const reset = SHELL_VARS.filter((k) => k in env).map((k) => `${k}=${env[k] ?? ''}`);
  const script = kept ? KEPT_PRELUDE_SCRIPT : PRELUDE_SCRIPT;
  return shArgv({ script, args: [...preludeArgs(prelude ?? { dirs: [], files: [] }), 'env', ...unsets, ...reset, exe, ...args] }, 'kiln-prelude');
}
