/**
 * <layers>/<bp>/build.toml (digest 7.6): [[unmet]] name defers a plan entry to the next provider.
 * Whether each name is in the buildpack's plan (edge case 41) is checked by lifecycle/, which knows the plan.
 */
import { decodeToml } from './decode.js';
import type { BuildFile, ParseResult } from './models.js';

export function parseBuildFile(text: string, file: string): ParseResult<BuildFile> {
  return decodeToml(text, file, (root) => ({
    unmet: root.tableArray('unmet', (u) => ({ name: u.reqString('name', { nonEmpty: true }) })),
  }));
}
