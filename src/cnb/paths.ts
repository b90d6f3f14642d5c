/**
 * The well-known paths of the CNB platform in build and app images (platform.md, "Build Image",
 * "Outputs", "`launcher`"; buildpack.md, "Build" and "Layers"), in one place (issue 16 point 4), and the
 * one rule that turns a module id into a path element.
 */

/** Where modules, the order and the lifecycle live in a builder (platform.md, "Build Image"). */
export const CNB_DIR = '/cnb';
export const BUILDPACKS_DIR = '/cnb/buildpacks';
export const EXTENSIONS_DIR = '/cnb/extensions';
export const ORDER_TOML = '/cnb/order.toml';
export const RUN_TOML = '/cnb/run.toml';
export const STACK_TOML = '/cnb/stack.toml';
/** The operator's build-time environment (platform.md, "Build Image": /cnb/build-config/env). */
export const BUILD_CONFIG_ENV_DIR = '/cnb/build-config/env';
/** kiln's launcher in an app image, its directory, and the process table it reads (lifecycle/launcher/). */
export const LIFECYCLE_DIR = '/cnb/lifecycle';
export const LAUNCHER_PATH = '/cnb/lifecycle/launcher';
export const PROCESS_DIR = '/cnb/process';

/** The app directory (CNB_APP_DIR), the layers directory (CNB_LAYERS_DIR) and the platform directory (CNB_PLATFORM_DIR). */
export const APP_DIR = '/workspace';
export const LAYERS_DIR = '/layers';
export const PLATFORM_DIR = '/platform';

/**
 * `/` in module ids becomes `_` in paths: /cnb/buildpacks/<id>, <layers>/<id>, generated/<id>
 * (platform.md, "Build Image"; buildpack.md, "Layers"). The one place this rule is written.
 */
export function escapeId(id: string): string {
  return id.replace(/\//g, '_');
}
