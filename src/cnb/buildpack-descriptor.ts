/**
 * buildpack.toml (buildpack.md, "buildpack.toml (TOML)"): parse, validate, normalise.
 */
import { buildpackApi } from './api-features.js';
import { BIONIC_STACK_ID } from './labels.js';
import { decodeToml, describe, isTable, type DecodeContext, type TableReader } from './decode.js';
import type { BuildpackDescriptor, ParseResult, Target } from './models.js';
import { decodeModuleApi, decodeModuleInfo, decodeTargets, LINUX_TARGET } from './module-common.js';
import { decodeOrder } from './order.js';

export interface DescriptorOptions {
  /**
   * Whether the module directory has bin/build (buildpacks) or bin/detect / bin/generate (extensions).
   * spec/ does no I/O, so the caller says; it only decides the default target (buildpack.md, "buildpack.toml (TOML)"; image_extension.md, "extension.toml (TOML)").
   */
  hasExecutables?: boolean;
}

const BIONIC = BIONIC_STACK_ID;

export function parseBuildpackDescriptor(text: string, file: string, opts: DescriptorOptions = {}): ParseResult<BuildpackDescriptor> {
  return decodeToml(text, file, (root, ctx) => {
    const api = decodeModuleApi(root);
    const bp = root.optTable('buildpack');
    if (!bp) {
      if (!root.has('buildpack')) ctx.error('buildpack', 'is required');
      root.ignore(...Object.keys(root.data)); // the error above says enough
      return undefined;
    }
    const info = decodeModuleInfo(bp);
    const clearEnv = bp.bool('clear-env', false);
    const sbomFormats = bp.stringArray('sbom-formats');
    const execEnv = decodeExecEnv(ctx, bp);
    bp.finish();

    // exec-env inside order groups is allowed by the spec and ignored by the lifecycle (buildpack.md, "buildpack.toml (TOML)").
    const order = decodeOrder(root, 'order', { requireVersion: true, ignoredKeys: ['exec-env'] });
    const stacks = root.tableArray('stacks', (s) => ({ id: s.reqString('id', { nonEmpty: true }), mixins: s.stringArray('mixins') }));
    if (order.length > 0 && stacks.length > 0) {
      ctx.error('stacks', 'a composite buildpack ([[order]]) must not declare [[stacks]]');
    }
    let targets = decodeTargets(root);
    if (targets.length === 0) targets = targetsFromStacks(stacks, api);
    if (targets.length === 0 && opts.hasExecutables === true && order.length === 0) targets = [{ ...LINUX_TARGET, distros: [] }];

    const value: BuildpackDescriptor = {
      kind: 'buildpack',
      api,
      ...info,
      targets,
      metadata: root.freeTable('metadata'),
      clearEnv,
      sbomFormats,
      execEnv,
      order,
      stacks,
    };
    return value;
  }) as ParseResult<BuildpackDescriptor>;
}

/** True for a composite buildpack (one that only has an order). */
export function isComposite(d: BuildpackDescriptor): boolean {
  return d.order.length > 0;
}

/**
 * `exec-env` as the lifecycle/pack write it (a string array) or as the spec shows it
 * ([[buildpack.exec-env]] name = ...); both are accepted (buildpack.md, "buildpack.toml (TOML)"; the lifecycle reads the string form).
 */
function decodeExecEnv(ctx: DecodeContext, bp: TableReader): string[] {
  const v = bp.raw('exec-env');
  if (v === undefined) return [];
  const path = bp.keyPath('exec-env');
  if (!Array.isArray(v)) {
    ctx.error(path, `must be an array of strings, not ${describe(v)}`);
    return [];
  }
  const out: string[] = [];
  v.forEach((x: unknown, i: number) => {
    if (typeof x === 'string') out.push(x);
    else if (isTable(x) && typeof x['name'] === 'string') {
      out.push(x['name']);
      for (const k of Object.keys(x)) if (k !== 'name') ctx.warn(`${path}[${i}].${k}`, 'unknown key (ignored)');
    } else if (isTable(x)) ctx.error(`${path}[${i}].name`, 'must be a string');
    else ctx.error(`${path}[${i}]`, `must be a string, not ${describe(x)}`);
  });
  return out;
}

/**
 * Without [[targets]], stacks translate (lifecycle buildpack/bp_descriptor.go, buildpack.md, "buildpack.toml (TOML)"): the bionic
 * stack means linux/amd64 ubuntu 18.04 (when API >= 0.10 or it is the only stack), `*` means anything.
 */
function targetsFromStacks(stacks: { id: string }[], api: string): Target[] {
  const out: Target[] = [];
  const modernApi = buildpackApi(api).supports('targets');
  for (const s of stacks) {
    if (s.id === BIONIC && (modernApi || stacks.length === 1)) {
      out.push({ os: 'linux', arch: 'amd64', variant: '', distros: [{ name: 'ubuntu', version: '18.04' }] });
    } else if (s.id === '*') {
      out.push({ os: '', arch: '', variant: '', distros: [] });
    }
  }
  return out;
}
