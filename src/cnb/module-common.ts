/**
 * What buildpack.toml and extension.toml share (buildpack.md, "buildpack.toml (TOML)"; image_extension.md, "extension.toml (TOML)"): api, id rules, licenses, targets and
 * the informational fields.
 */
import { isSupportedBuildpackApi, normaliseApiVersion, SUPPORTED_BUILDPACK_APIS } from './api-version.js';
import type { DecodeContext, TableReader } from './decode.js';
import type { License, Target, TargetDistro } from './models.js';

/** Buildpack IDs that collide with directories under <layers> (buildpack.md, "buildpack.toml (TOML)"). */
export const RESERVED_MODULE_IDS: readonly string[] = ['app', 'config', 'generated', 'sbom'];

/** Letters, digits, '.', '/', '-' (buildpack.md, "buildpack.toml (TOML)"). '_' is excluded: it is what '/' escapes to. */
const MODULE_ID = /^[A-Za-z0-9./-]+$/;

/** Checks a module ID; records an error at keyPath and returns false when it breaks a rule. */
export function checkModuleId(ctx: DecodeContext, keyPath: string, id: string): boolean {
  if (id === '') return false; // already reported as missing/empty
  if (!MODULE_ID.test(id)) {
    ctx.error(keyPath, `"${id}" is not a valid ID: use only letters, digits, '.', '/' and '-'`);
    return false;
  }
  if (RESERVED_MODULE_IDS.includes(id.toLowerCase())) {
    ctx.error(keyPath, `"${id}" is reserved (${RESERVED_MODULE_IDS.join(', ')} name directories under <layers>)`);
    return false;
  }
  return true;
}

/**
 * The top-level `api`: required, a valid version, and one kiln supports (0.7..0.12). Returns the
 * normalised version ("" when unusable).
 */
export function decodeModuleApi(root: TableReader): string {
  const raw = root.reqString('api', { nonEmpty: true });
  if (raw === '') return '';
  const api = normaliseApiVersion(raw);
  if (api === undefined) {
    root.ctx.error('api', `"${raw}" is not an API version (expected <major>.<minor>, e.g. "0.12")`);
    return '';
  }
  if (!isSupportedBuildpackApi(api)) {
    root.ctx.error(
      'api',
      `Buildpack API ${api} is not supported (supported: ${SUPPORTED_BUILDPACK_APIS.join(', ')})`,
      'unsupported-buildpack-api',
    );
  }
  return api;
}

export interface ModuleInfo {
  id: string;
  version: string;
  name: string;
  homepage: string;
  description: string;
  keywords: string[];
  licenses: License[];
}

/** The [buildpack] / [extension] fields common to both kinds. The caller reads its own extra keys. */
export function decodeModuleInfo(t: TableReader): ModuleInfo {
  const id = t.reqString('id', { nonEmpty: true });
  checkModuleId(t.ctx, t.keyPath('id'), id);
  // The spec asks for X.Y.Z; the lifecycle does not validate it, so neither do we (buildpack.md, "buildpack.toml (TOML)").
  const version = t.reqString('version', { nonEmpty: true });
  return {
    id,
    version,
    name: t.string('name'),
    homepage: t.string('homepage'),
    description: t.string('description'),
    keywords: t.stringArray('keywords'),
    licenses: t.tableArray('licenses', (l) => {
      const lic = { type: l.string('type'), uri: l.string('uri') };
      if (lic.type === '' && lic.uri === '') l.ctx.warn(l.path, 'a license should give a type or a uri');
      return lic;
    }),
  };
}

/** [[targets]] with `variant` preferred over the lifecycle's `arch-variant` (buildpack.md, "buildpack.toml (TOML)"). */
export function decodeTargets(root: TableReader): Target[] {
  return root.tableArray('targets', (t) => {
    const variant = t.optString('variant');
    const archVariant = t.optString('arch-variant');
    if (variant !== undefined && archVariant !== undefined && variant !== archVariant) {
      t.ctx.warn(t.keyPath('arch-variant'), `differs from variant "${variant}"; using variant`);
    }
    return {
      os: t.string('os'),
      arch: t.string('arch'),
      variant: variant ?? archVariant ?? '',
      distros: t.tableArray('distros', (d): TargetDistro => ({ name: d.string('name'), version: d.string('version') })),
    };
  });
}

/** The target a module gets when it declares none but has executables (buildpack.md, "buildpack.toml (TOML)"; image_extension.md, "extension.toml (TOML)"). */
export const LINUX_TARGET: Target = { os: 'linux', arch: '', variant: '', distros: [] };
