/**
 * <layers>/<bp>/<layer>.toml (buildpack.md, "Layer Content Metadata (TOML)"): [types] launch/build/cache and free-form [metadata].
 */
import { decodeToml } from './decode.js';
import type { LayerMetadataFile, ParseResult } from './models.js';

const TYPE_KEYS = ['launch', 'build', 'cache'] as const;

/** Layer names whose `.toml` would collide with the per-buildpack files (buildpack.md, "Phase #5: Build": no layers named build, launch or store). */
export const FORBIDDEN_LAYER_NAMES: readonly string[] = ['build', 'launch', 'store'];

export function isForbiddenLayerName(name: string): boolean {
  return FORBIDDEN_LAYER_NAMES.includes(name);
}

export function parseLayerMetadata(text: string, file: string): ParseResult<LayerMetadataFile> {
  return decodeToml(text, file, (root, ctx) => {
    // Types at top level were the pre-0.6 format; the lifecycle now fails the build (buildpack.md, "Layer Content Metadata (TOML)").
    for (const key of TYPE_KEYS) {
      if (root.has(key)) {
        root.raw(key);
        ctx.error(key, `must be under [types] (write "[types]\\n${key} = ..."); top-level layer types are not allowed`);
      }
    }
    // Missing [types] means all false: a restored layer toml never has [types] (buildpack.md, "Layer Content Metadata (TOML)").
    const types = root.optTable('types');
    const value: LayerMetadataFile = {
      types: { launch: types?.bool('launch') ?? false, build: types?.bool('build') ?? false, cache: types?.bool('cache') ?? false },
      metadata: root.freeTable('metadata'),
    };
    types?.finish();
    // Buildpack API 0.12 exec-env on a layer is informational; the lifecycle does not act on it.
    root.stringArray('exec-env');
    return value;
  });
}

