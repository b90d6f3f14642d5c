/**
 * <generated>/<ext>/extend-config.toml (image_extension.md, "Dockerfile Requirements"): [[build.args]] and [[run.args]] name/value pairs
 * passed to the extension's Dockerfiles. build_id, user_id and group_id are the lifecycle's own args
 * (image_extension.md, "extend-config.toml (TOML)").
 */
import { decodeToml, type TableReader } from './decode.js';
import type { ExtendArg, ExtendConfig, ParseResult } from './models.js';

export const RESERVED_BUILD_ARGS: readonly string[] = ['build_id', 'user_id', 'group_id'];

export function parseExtendConfig(text: string, file: string): ParseResult<ExtendConfig> {
  return decodeToml(text, file, (root) => ({
    build: { args: decodeArgs(root, 'build') },
    run: { args: decodeArgs(root, 'run') },
  }));
}

function decodeArgs(root: TableReader, kind: 'build' | 'run'): ExtendArg[] {
  const t = root.optTable(kind);
  if (!t) return [];
  const args = t.tableArray('args', (a) => {
    const name = a.reqString('name', { nonEmpty: true });
    if (RESERVED_BUILD_ARGS.includes(name)) {
      a.ctx.error(a.keyPath('name'), `"${name}" is reserved for the lifecycle (${RESERVED_BUILD_ARGS.join(', ')})`);
    }
    return { name, value: a.string('value') };
  });
  t.finish();
  return args;
}
