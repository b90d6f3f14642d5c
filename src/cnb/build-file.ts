/**
 * <layers>/<bp>/build.toml (buildpack.md, "build.toml (TOML)"): [[unmet]] name defers a plan entry to the next provider.
 * Whether each name is in the buildpack's plan (buildpack.md, "Unmet Buildpack Plan Entries") is checked by lifecycle/, which knows the plan.
 */
import { decodeToml } from './decode.js';
import type { BuildFile, ParseResult } from './models.js';

export function parseBuildFile(text: string, file: string): ParseResult<BuildFile> {
  return decodeToml(text, file, (root) => ({
    unmet: root.tableArray('unmet', (u) => ({ name: u.reqString('name', { nonEmpty: true }) })),
  }));
}
