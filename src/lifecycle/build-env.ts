/**
 * PURE: environment layering of the build phase (buildpack.md, "Phase #5: Build", "Environment Variable Modification Rules", "Delimiter"; platform.md, "User-Provided Variables").
 *
 * Every function returns a new Env; nothing reads the filesystem: callers pass the file names and
 * contents they read from the layers volume.
 */
import { PATH_LIKE_VARS, type Env } from './container/module-env.js';

/** One regular file of an env directory: its name (e.g. "FOO.append") and verbatim contents. */
export interface EnvFile {
  name: string;
  content: string;
}

type Action = 'override' | 'default' | 'append' | 'prepend';

/**
 * How an unsuffixed file is applied: 'override' for buildpack env dirs and user platform env handled
 * as a dir; 'default' for the operator's build-config env (buildpack.md, "Default").
 */
export type UnsuffixedAction = 'override' | 'default';

function actionOf(suffix: string | undefined, unsuffixed: UnsuffixedAction): Action | 'delim' | undefined {
  if (suffix === undefined) return unsuffixed;
  switch (suffix) {
    case 'override':
    case 'default':
    case 'append':
    case 'prepend':
    case 'delim':
      return suffix;
    default:
      return undefined; // unknown suffixes are ignored (buildpack.md, "Environment Variable Modification Rules")
  }
}

function split(name: string): { varName: string; suffix: string | undefined } {
  const i = name.indexOf('.');
  return i < 0 ? { varName: name, suffix: undefined } : { varName: name.slice(0, i), suffix: name.slice(i + 1) };
}

/**
 * Applies one env directory. Files are processed in lexical name order; contents are verbatim (a trailing
 * newline is part of the value). `.delim` supplies the separator for append/prepend of the same variable
 * in the same directory; without it the separator is empty (buildpack.md, "Delimiter").
 */
export function applyEnvDir(env: Env, files: readonly EnvFile[], unsuffixed: UnsuffixedAction = 'override'): Env {
  const out: Env = { ...env };
  const delims = new Map<string, string>();
  for (const f of files) {
    const { varName, suffix } = split(f.name);
    if (suffix === 'delim') delims.set(varName, f.content);
  }
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const f of sorted) {
    const { varName, suffix } = split(f.name);
    if (varName === '') continue;
    const action = actionOf(suffix, unsuffixed);
    if (action === undefined || action === 'delim') continue;
    const old = out[varName] ?? '';
    const delim = delims.get(varName) ?? '';
    switch (action) {
      case 'override':
        out[varName] = f.content;
        break;
      case 'default':
        if (old === '') out[varName] = f.content;
        break;
      case 'append':
        out[varName] = old === '' ? f.content : `${old}${delim}${f.content}`;
        break;
      case 'prepend':
        out[varName] = old === '' ? f.content : `${f.content}${delim}${old}`;
        break;
    }
  }
  return out;
}

/** Prepends `value` to a path-like variable with ':' (just `value` when the variable is empty). */
export function prependPath(env: Env, name: string, value: string): Env {
  const old = env[name] ?? '';
  return { ...env, [name]: old === '' ? value : `${value}:${old}` };
}

/** The root subdirectories of a layer that feed path-like variables during build (buildpack.md, "Layer Paths"). */
export type RootDir = 'bin' | 'lib' | 'include' | 'pkgconfig';

const ROOT_DIR_VARS: Readonly<Record<RootDir, readonly string[]>> = {
  bin: ['PATH'],
  lib: ['LD_LIBRARY_PATH', 'LIBRARY_PATH'],
  include: ['CPATH'],
  pkgconfig: ['PKG_CONFIG_PATH'],
};

/** A `build = true` layer as read back from the layers volume. */
export interface BuildLayerEnv {
  /** Absolute path of the layer directory in the container, e.g. /layers/acme_node/node. */
  path: string;
  /** Which of bin/, lib/, include/, pkgconfig/ exist in the layer. */
  rootDirs: readonly RootDir[];
  /** Regular files of <layer>/env/. */
  env: readonly EnvFile[];
  /** Regular files of <layer>/env.build/. */
  envBuild: readonly EnvFile[];
}

/**
 * One build layer's contribution: root-dir prepends (only for subdirs that exist), then env/, then
 * env.build/ (buildpack.md, "Phase #5: Build", "Environment Variable Modification Rules").
 */
export function applyBuildLayer(env: Env, layer: BuildLayerEnv): Env {
  let out = env;
  for (const dir of ['bin', 'lib', 'include', 'pkgconfig'] as const) {
    if (!layer.rootDirs.includes(dir)) continue;
    for (const v of ROOT_DIR_VARS[dir]) out = prependPath(out, v, `${layer.path}/${dir}`);
  }
  out = applyEnvDir(out, layer.env, 'override');
  out = applyEnvDir(out, layer.envBuild, 'override');
  return out;
}

/**
 * Applies a buildpack's build layers in alphabetical order of layer name (buildpack.md, "Environment Variable Modification Rules": within a buildpack,
 * layer dirs alphabetically; successive prepends put later names first, as in the lifecycle; buildpack.md, "Layer Paths").
 */
export function applyBuildLayers(env: Env, layers: readonly (BuildLayerEnv & { name: string })[]): Env {
  const sorted = [...layers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return sorted.reduce((acc, l) => applyBuildLayer(acc, l), env);
}

/**
 * User platform env (`<platform>/env/<NAME>`): path-like names are prepended with ':', every other name
 * overrides, so buildpacks cannot override user-provided values (buildpack.md, "Environment Variable Modification Rules"; platform.md, "User-Provided Variables").
 */
export function applyPlatformEnv(env: Env, platformEnv: Readonly<Env>): Env {
  let out: Env = { ...env };
  for (const name of Object.keys(platformEnv).sort()) {
    const value = platformEnv[name] ?? '';
    out = PATH_LIKE_VARS.includes(name) ? prependPath(out, name, value) : { ...out, [name]: value };
  }
  return out;
}

export interface ModuleEnvLayers {
  /** The accumulated build env (outer allow-list + earlier buildpacks' layers). */
  base: Env;
  /** User platform env from --env/--env-file. */
  platformEnv: Readonly<Env>;
  /** The module's `clear-env` (buildpack.toml); extensions never clear. */
  clearEnv: boolean;
  /** Operator env files of /cnb/build-config/env (unsuffixed = default); applied even with clear-env. */
  buildConfigEnv?: readonly EnvFile[];
  /** The module-specific CNB_* variables, added last. */
  cnbVars: Readonly<Env>;
}

/**
 * The env of one module execution: accumulated env, then user platform env (unless clear-env), then
 * build-config env, then the module's CNB_* vars (buildpack.md, "Phase #5: Build"; platform.md, "Buildpack Environment"). The accumulated env itself is never
 * modified: platform env is re-applied on top for every module.
 */
export function moduleExecutionEnv(l: ModuleEnvLayers): Env {
  let env = l.clearEnv ? { ...l.base } : applyPlatformEnv(l.base, l.platformEnv);
  if (l.buildConfigEnv !== undefined) env = applyEnvDir(env, l.buildConfigEnv, 'default');
  return { ...env, ...l.cnbVars };
}
