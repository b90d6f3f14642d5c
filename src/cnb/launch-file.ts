/**
 * <layers>/<bp>/launch.toml (buildpack.md, "launch.toml (TOML)"): labels, processes, slices. The shape of a process depends on
 * the buildpack's API:
 * - API >= 0.9: `command` is an array (first element = executable), `args` are default args, processes
 *   are always direct and a `direct` key is an error (buildpack.md, "launch.toml (TOML)"). A plain string command is
 *   accepted as a one-element array with a warning, as the lifecycle's own decoder accepts both.
 * - API < 0.9: `command` is a string, `direct` (default false) chooses exec vs shell; an array command
 *   is an error.
 */
import { normaliseApiVersion } from './api-version.js';
import { buildpackApi as apiLevel } from './api-features.js';
import { decodeToml, describe, decodeStringArray, type TableReader } from './decode.js';
import type { LaunchFile, ParseResult, ProcessSpec } from './models.js';

/** Letters, digits, '.', '_', '-' (buildpack.md, "launch.toml (TOML)"); the lifecycle rejects / > < : | & \ at export. */
const PROCESS_TYPE = /^[A-Za-z0-9._-]+$/;
const RESERVED_TYPES = new Set(['launcher', '.', '..']);

export function parseLaunchFile(text: string, file: string, buildpackApi: string): ParseResult<LaunchFile> {
  if (normaliseApiVersion(buildpackApi) === undefined) {
    return { issues: [{ severity: 'error', file, keyPath: '', message: `cannot read without a valid Buildpack API (got "${buildpackApi}")` }] };
  }
  const modern = apiLevel(buildpackApi).supports('process-command-array');
  return decodeToml(text, file, (root, ctx) => {
    const labels = root.tableArray('labels', (l) => ({ key: l.reqString('key', { nonEmpty: true }), value: l.reqString('value') }));
    let defaultAt: string | undefined;
    const types = new Set<string>();
    const processes = root.tableArray('processes', (p) => {
      const proc = decodeProcess(p, buildpackApi, modern);
      if (proc.default) {
        // At most one default per buildpack (buildpack.md, "launch.toml (TOML)").
        if (defaultAt !== undefined) ctx.error(p.keyPath('default'), `a second default process; ${defaultAt} is already default`);
        else defaultAt = `${p.path} ("${proc.type}")`;
      }
      if (proc.type !== '' && types.has(proc.type)) ctx.warn(p.keyPath('type'), `process type "${proc.type}" is defined twice; the later one wins`);
      types.add(proc.type);
      return proc;
    });
    const slices = root.tableArray('slices', (s) => ({ paths: s.stringArray('paths') }));
    // Legacy [[bom]] (API < 0.7) is ignored by kiln; the default unknown-key warning says so.
    return { labels, processes, slices };
  });
}

function decodeProcess(p: TableReader, api: string, modern: boolean): ProcessSpec {
  const type = p.reqString('type', { nonEmpty: true });
  if (type !== '' && !PROCESS_TYPE.test(type)) {
    p.ctx.error(p.keyPath('type'), `"${type}" is not a valid process type: use only letters, digits, '.', '_' and '-'`);
  } else if (RESERVED_TYPES.has(type)) {
    // /cnb/process/<type> links to the launcher, which picks the process by its own name (launcher-script.ts):
    // "launcher" is the launcher itself, "." and ".." are not file names.
    p.ctx.error(p.keyPath('type'), `"${type}" cannot be a process type: it is reserved (/cnb/process/${type} would not start it); choose another name`);
  }
  const command = decodeCommand(p, api, modern);
  const args = p.stringArray('args');
  let direct = true;
  if (modern) {
    if (p.has('direct')) {
      p.raw('direct');
      p.ctx.error(p.keyPath('direct'), `is not allowed for Buildpack API ${api} (processes are always direct since 0.9)`);
    }
  } else {
    direct = p.bool('direct', false);
  }
  const dflt = p.bool('default', false);
  const spec: ProcessSpec = { type, command, args, direct, default: dflt };
  const workingDir = p.optString('working-dir', { nonEmpty: true });
  if (workingDir !== undefined) {
    if (apiLevel(api).supports('process-working-dir')) spec.workingDir = workingDir;
    else p.ctx.warn(p.keyPath('working-dir'), `is ignored for Buildpack API ${api} (needs 0.8)`);
  }
  if (p.has('exec-env')) {
    const execEnv = p.stringArray('exec-env');
    if (apiLevel(api).supports('exec-env')) spec.execEnv = execEnv;
    else p.ctx.warn(p.keyPath('exec-env'), `is ignored for Buildpack API ${api} (needs 0.12)`);
  }
  return spec;
}

function decodeCommand(p: TableReader, api: string, modern: boolean): string[] {
  const path = p.keyPath('command');
  if (!p.has('command')) {
    p.raw('command');
    p.ctx.error(path, 'is required');
    return [];
  }
  const v = p.raw('command');
  if (typeof v === 'string') {
    if (v === '') {
      p.ctx.error(path, 'must not be empty');
      return [];
    }
    if (modern) p.ctx.warn(path, `should be an array for Buildpack API ${api}; using ["${v}"]`);
    return [v];
  }
  if (!modern) {
    p.ctx.error(path, `must be a string for Buildpack API ${api}, not ${describe(v)}`);
    return [];
  }
  const cmd = decodeStringArray(p.ctx, path, v);
  if (Array.isArray(v) && v.length === 0) p.ctx.error(path, 'must not be empty (the first element is the executable)');
  else if (cmd[0] === '') p.ctx.error(`${path}[0]`, 'must not be empty (it is the executable)');
  return cmd;
}
