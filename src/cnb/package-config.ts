/**
 * package.toml in pack's format (distribution.md, "Buildpackage"; `kiln buildpack package --config`):
 * `[buildpack] uri` (or `[extension] uri` for an extension package) names the package's own module,
 * `[[dependencies]]` (`uri`, or `image` for a package image) the modules a composite buildpack's order
 * refers to, `[platform] os` the package image's OS. A missing uri is "." (package.toml's directory).
 */
import { decodeToml } from './decode.js';
import type { BuilderModuleEntry, ModuleKind, ParseResult } from './models.js';

export interface PackageConfig {
  kind: ModuleKind;
  /** `[buildpack] uri` / `[extension] uri`, as written. */
  module: BuilderModuleEntry;
  /** `[[dependencies]]`, each with its uri as written (`image = "x"` becomes `docker://x`). */
  dependencies: BuilderModuleEntry[];
  /** `[platform] os`, when given. */
  os?: string;
}

export function parsePackageConfig(text: string, file: string, kind: ModuleKind): ParseResult<PackageConfig> {
  return decodeToml(text, file, (root, ctx) => {
    const other: ModuleKind = kind === 'buildpack' ? 'extension' : 'buildpack';
    if (root.has(other)) ctx.error(other, `is for \`kiln ${other} package\`; this is \`kiln ${kind} package\`: use [${kind}]`);
    root.ignore(other);
    const table = root.optTable(kind);
    const uri = table?.optString('uri', { nonEmpty: true }) ?? '.';
    table?.finish();
    const dependencies = root.tableArray('dependencies', (d) => {
      const depUri = d.optString('uri', { nonEmpty: true });
      const image = d.optString('image', { nonEmpty: true });
      if (depUri !== undefined && image !== undefined) d.ctx.error(d.path, 'give either uri or image, not both');
      if (depUri === undefined && image === undefined) d.ctx.error(d.path, 'needs a uri (a directory, .tgz, .cnb or docker://<image>) or an image');
      return { id: '', version: '', uri: depUri ?? (image !== undefined ? `docker://${image}` : '') };
    });
    if (kind === 'extension' && dependencies.length > 0) ctx.error('dependencies', 'are for composite buildpacks (buildpack.md, "buildpack.toml (TOML)" [[order]]); an extension package holds one extension');
    const platform = root.optTable('platform');
    const os = platform?.optString('os', { nonEmpty: true });
    platform?.finish();
    if (os !== undefined && os !== 'linux') ctx.error('platform.os', `"${os}" is not supported: kiln packages linux modules only`);
    const value: PackageConfig = { kind, module: { id: '', version: '', uri }, dependencies, ...(os !== undefined ? { os } : {}) };
    return value;
  });
}
