/**
 * What each Platform and Buildpack API version kiln speaks brings, as named features with the version
 * that introduced them (issue 16 point 4). Code that behaves differently by version asks
 * `buildpackApi(api).supports('exec-env')` or `platformApi.supports('run-image-extension')` instead of
 * comparing version numbers at the call site, so adding a version (docs/architecture.md, "How do I ...")
 * means reading these two tables. The versions themselves are in api-version.ts.
 */
import { apiAtLeast, PLATFORM_API } from './api-version.js';

/** Buildpack API features (buildpack.md and image_extension.md, each release's change log). */
export const BUILDPACK_API_FEATURES = {
  /** CNB_PLATFORM_DIR, CNB_BUILD_PLAN_PATH, CNB_BP_PLAN_PATH and CNB_LAYERS_DIR in the environment (buildpack.md, "Buildpack Interface"). */
  'cnb-dir-env': '0.8',
  /** launch.toml `working-dir` of a process (buildpack.md, "launch.toml (TOML)"). */
  'process-working-dir': '0.8',
  /** launch.toml processes with a `command` array and `args`, no `direct` (buildpack.md, "launch.toml (TOML)"). */
  'process-command-array': '0.9',
  /** User arguments to the launcher replace a process's args (platform.md, "`launcher`", "Execution"). */
  'user-args-replace': '0.9',
  /** [[targets]] and CNB_TARGET_* (buildpack.md, "Targets"); the bionic stack maps to a target. */
  targets: '0.10',
  /** `exec-env` of processes and buildpacks, and CNB_EXEC_ENV (buildpack.md, "Execution Environments"). */
  'exec-env': '0.12',
} as const satisfies Record<string, string>;

/** Platform API features kiln implements at PLATFORM_API (platform.md, each release's change log). */
export const PLATFORM_API_FEATURES = {
  /** Extensions' run.Dockerfiles switch or extend the run image (platform.md, "`extender` (optional)"). */
  'run-image-extension': '0.12',
} as const satisfies Record<string, string>;

export type BuildpackApiFeature = keyof typeof BUILDPACK_API_FEATURES;
export type PlatformApiFeature = keyof typeof PLATFORM_API_FEATURES;

export interface ApiLevel<F extends string> {
  readonly version: string;
  /** Whether this version has the feature (version >= the one that introduced it). */
  supports(feature: F): boolean;
}

/** The features of a module's declared Buildpack API (an empty or invalid version supports none). */
export function buildpackApi(version: string): ApiLevel<BuildpackApiFeature> {
  return { version, supports: (f) => version !== '' && apiAtLeast(version, BUILDPACK_API_FEATURES[f]) };
}

/** The Platform API kiln speaks, with its features. */
export const platformApi: ApiLevel<PlatformApiFeature> = {
  version: PLATFORM_API,
  supports: (f) => apiAtLeast(PLATFORM_API, PLATFORM_API_FEATURES[f]),
};
