import { describe, expect, it } from 'vitest';
import { builderLabels } from '../../../src/builder/builder-labels.js';
import { planBuilder, type BuilderPlan } from '../../../src/builder/builder-plan.js';
import { configLayerFiles, dirsLayerFiles } from '../../../src/builder/builder-layers.js';
import type { ModuleSource } from '../../../src/builder/module-source.js';
import { parseBuilderConfig } from '../../../src/cnb/builder-config.js';
import type { ModuleKind, SpecIssue } from '../../../src/cnb/models.js';

const bpToml = (id: string, version: string, extra = '', api = '0.10'): string =>
  `api = "${api}"\n[buildpack]\nid = "${id}"\nversion = "${version}"\nname = "N ${id}"\nhomepage = "https://h/${id}"\n${extra}`;
const extToml = (id: string, version: string): string => `api = "0.10"\n[extension]\nid = "${id}"\nversion = "${version}"\n`;

function source(kind: ModuleKind, index: number, uri: string, text: string | undefined, over: Partial<ModuleSource> = {}): ModuleSource {
  return {
    kind,
    entry: { id: '', version: '', uri },
    index,
    dir: `/m/${uri}`,
    descriptorFile: `/m/${uri}/${kind}.toml`,
    descriptorText: text,
    hasDetect: kind === 'buildpack',
    hasBuild: kind === 'buildpack',
    hasGenerate: kind === 'extension',
    hasGenerateDir: false,
    contentDigest: `sha256:${uri}`,
    ...over,
  };
}

const CONFIG = `description = "d"
[[buildpacks]]
uri = "a"
[[buildpacks]]
uri = "b"
[[buildpacks]]
uri = "meta"
[[extensions]]
uri = "x"
[[extensions]]
uri = "y"

[[order]]
[[order.group]]
id = "t/meta"

[[order]]
[[order.group]]
id = "t/b"
version = "2.0.0"
optional = true

[[order-extensions]]
[[order-extensions.group]]
id = "t/x"
[[order-extensions.group]]
id = "t/y"

[build]
image = "build:1"
[[build.env]]
name = "GREETING"
value = "hi"
suffix = "append"
delim = ":"

[[run.images]]
image = "run:1"
mirrors = ["m/run:1"]
`;

function sources(): ModuleSource[] {
  return [
    source('buildpack', 0, 'a', bpToml('t/a', '1.0.0')),
    source('buildpack', 1, 'b', bpToml('t/b', '2.0.0')),
    source('buildpack', 2, 'meta', bpToml('t/meta', '0.1.0', '[[order]]\n[[order.group]]\nid = "t/a"\nversion = "1.0.0"\n'), { hasDetect: false, hasBuild: false }),
    source('extension', 0, 'x', extToml('t/x', '0.1.0')),
    source('extension', 1, 'y', extToml('t/y', '0.2.0'), { hasGenerate: false, hasGenerateDir: true }),
  ];
}

function plan(configText = CONFIG, srcs = sources()): { plan?: BuilderPlan; issues: SpecIssue[] } {
  const parsed = parseBuilderConfig(configText, 'builder.toml');
  if (!parsed.value) throw new Error(JSON.stringify(parsed.issues));
  return planBuilder({ config: parsed.value, configFile: 'builder.toml', configText, sources: srcs });
}

const errors = (r: { issues: SpecIssue[] }): SpecIssue[] => r.issues.filter((i) => i.severity === 'error');

describe('planBuilder', () => {
  it('resolves versions, sorts modules and renders order.toml, run.toml, stack.toml and build env', () => {
    const r = plan();
    expect(errors(r)).toEqual([]);
    const p = r.plan as BuilderPlan;
    expect(p.buildpacks.map((m) => m.imageDir)).toEqual(['cnb/buildpacks/t_a/1.0.0', 'cnb/buildpacks/t_b/2.0.0', 'cnb/buildpacks/t_meta/0.1.0']);
    expect(p.extensions.map((m) => m.imageDir)).toEqual(['cnb/extensions/t_x/0.1.0', 'cnb/extensions/t_y/0.2.0']);
    expect(p.order).toEqual([
      { group: [{ id: 't/meta', version: '0.1.0', optional: false }] },
      { group: [{ id: 't/b', version: '2.0.0', optional: true }] },
    ]);
    expect(p.orderToml).toContain('[[order-extensions]]');
    expect(p.orderToml).toMatch(/id = "t\/x"\s+version = "0.1.0"/);
    expect(p.runToml).toMatch(/\[\[images\]\]\s+image = "run:1"\s+mirrors = \[ "m\/run:1" \]/);
    expect(p.stackToml).toContain('[run-image]');
    expect(p.buildConfigEnv).toEqual([
      { name: 'GREETING.append', content: 'hi' },
      { name: 'GREETING.delim', content: ':' },
    ]);
    expect(configLayerFiles(p).map((f) => f.path)).toEqual([
      'cnb', 'cnb/order.toml', 'cnb/run.toml', 'cnb/stack.toml', 'cnb/build-config', 'cnb/build-config/env',
      'cnb/build-config/env/GREETING.append', 'cnb/build-config/env/GREETING.delim',
    ]);
    expect(dirsLayerFiles({ uid: 1000, gid: 1001 }).filter((f) => f.uid === 1000).map((f) => f.path)).toEqual(['layers', 'workspace']);
  });

  it('writes every label in pack shapes', () => {
    const p = plan().plan as BuilderPlan;
    const diffIds = new Map([...p.buildpacks, ...p.extensions].map((m, i) => [m.imageDir, `sha256:${String(i).repeat(64)}`]));
    const labels = builderLabels(p, diffIds, { name: 'kiln', version: '9.9.9' });
    const json = (k: string): unknown => JSON.parse(labels[k] ?? 'null');
    expect(json('io.buildpacks.buildpack.layers')).toEqual({
      't/a': { '1.0.0': { api: '0.10', layerDiffID: `sha256:${'0'.repeat(64)}`, homepage: 'https://h/t/a', name: 'N t/a', targets: [{ os: 'linux', arch: '' }] } },
      't/b': { '2.0.0': { api: '0.10', layerDiffID: `sha256:${'1'.repeat(64)}`, homepage: 'https://h/t/b', name: 'N t/b', targets: [{ os: 'linux', arch: '' }] } },
      't/meta': {
        '0.1.0': { api: '0.10', order: [{ group: [{ id: 't/a', version: '1.0.0' }] }], layerDiffID: `sha256:${'2'.repeat(64)}`, homepage: 'https://h/t/meta', name: 'N t/meta' },
      },
    });
    expect(json('io.buildpacks.extension.layers')).toEqual({
      't/x': { '0.1.0': { api: '0.10', layerDiffID: `sha256:${'3'.repeat(64)}`, targets: [{ os: 'linux', arch: '' }] } },
      't/y': { '0.2.0': { api: '0.10', layerDiffID: `sha256:${'4'.repeat(64)}` } },
    });
    expect(json('io.buildpacks.buildpack.order')).toEqual([
      { group: [{ id: 't/meta', version: '0.1.0' }] },
      { group: [{ id: 't/b', version: '2.0.0', optional: true }] },
    ]);
    expect(json('io.buildpacks.buildpack.order-extensions')).toEqual([{ group: [{ id: 't/x', version: '0.1.0' }, { id: 't/y', version: '0.2.0' }] }]);
    const meta = json('io.buildpacks.builder.metadata') as Record<string, unknown>;
    expect(meta.description).toBe('d');
    expect(meta.createdBy).toEqual({ name: 'kiln', version: '9.9.9' });
    expect(meta.buildpacks).toEqual([
      { id: 't/a', version: '1.0.0', homepage: 'https://h/t/a', name: 'N t/a' },
      { id: 't/b', version: '2.0.0', homepage: 'https://h/t/b', name: 'N t/b' },
      { id: 't/meta', version: '0.1.0', homepage: 'https://h/t/meta', name: 'N t/meta' },
    ]);
    expect(meta.extensions).toEqual([{ id: 't/x', version: '0.1.0' }, { id: 't/y', version: '0.2.0' }]);
    expect(meta.stack).toEqual({ runImage: { image: 'run:1', mirrors: ['m/run:1'] } });
    expect(meta.images).toEqual([{ image: 'run:1', mirrors: ['m/run:1'] }]);
    expect(meta.lifecycle).toMatchObject({ version: '9.9.9', apis: { buildpack: { deprecated: [] }, platform: { supported: ['0.13'] } } });
    expect(labels['io.kiln.builder.build-image']).toBe('build:1');
    expect(Object.keys(labels)).not.toContain('io.buildpacks.buildpack.metadata');
  });

  it('names an order entry that is not provided, with its line', () => {
    const text = CONFIG.replace('id = "t/meta"', 'id = "t/nope"');
    const errs = errors(plan(text));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ file: 'builder.toml', keyPath: 'order[0].group[0].id', line: 15 });
    expect(errs[0]?.message).toContain('t/nope is not provided');
  });

  it('refuses an extension in [[order]] and a buildpack in [[order-extensions]]', () => {
    const text = CONFIG.replace('id = "t/meta"', 'id = "t/x"').replace('id = "t/y"', 'id = "t/a"');
    const msgs = errors(plan(text)).map((i) => `${i.keyPath}: ${i.message}`);
    expect(msgs).toEqual([
      expect.stringMatching(/^order\[0\]\.group\[0\]\.id: t\/x is an extension/),
      expect.stringMatching(/^order-extensions\[0\]\.group\[1\]\.id: t\/a is a buildpack/),
    ]);
  });

  it('rejects nested groups inside order-extensions (parser)', () => {
    const text = CONFIG.replace('[[order-extensions.group]]\nid = "t/y"', '[[order-extensions.group]]\nid = "t/y"\n[[order-extensions.group.group]]\nid = "t/x"');
    const parsed = parseBuilderConfig(text, 'builder.toml');
    expect(parsed.issues.filter((i) => i.severity === 'error').map((i) => i.message).join()).toContain('may not nest');
  });

  it('refuses the same id@version twice with different content, accepts it with the same content', () => {
    const twice = CONFIG.replace('[[buildpacks]]\nuri = "b"', '[[buildpacks]]\nuri = "b"\n[[buildpacks]]\nuri = "b2"');
    const srcs = sources();
    srcs.splice(2, 0, source('buildpack', 2, 'b2', bpToml('t/b', '2.0.0')));
    const meta = srcs[3];
    if (meta) meta.index = 3;
    const errs = errors(plan(twice, srcs));
    expect(errs).toHaveLength(1);
    expect(errs[0]?.keyPath).toBe('buildpacks[2].uri');
    expect(errs[0]?.message).toContain('t/b@2.0.0 is given twice with different content');
    const same = srcs.map((s) => (s.entry.uri === 'b2' ? { ...s, contentDigest: 'sha256:b' } : s));
    const ok = plan(twice, same);
    expect(errors(ok)).toEqual([]);
    expect(ok.plan?.buildpacks).toHaveLength(3);
  });

  it('refuses an unsupported Buildpack API with exit-code-12 issue code', () => {
    const srcs = sources();
    srcs[0] = source('buildpack', 0, 'a', bpToml('t/a', '1.0.0', '', '0.2'));
    const errs = errors(plan(CONFIG, srcs));
    expect(errs[0]).toMatchObject({ keyPath: 'api', code: 'unsupported-buildpack-api', file: '/m/a/buildpack.toml' });
  });

  it('requires bin/detect (and bin/build) for component buildpacks', () => {
    const srcs = sources();
    srcs[1] = source('buildpack', 1, 'b', bpToml('t/b', '2.0.0'), { hasDetect: false });
    const errs = errors(plan(CONFIG, srcs));
    expect(errs.map((e) => e.message)).toEqual([expect.stringContaining('t/b@2.0.0 (/m/b/buildpack.toml) has no bin/detect')]);
    expect(errs[0]).toMatchObject({ keyPath: 'buildpacks[1].uri', line: 5 });
  });

  it('accepts an extension with only extension.toml (no bin/, no generate/: image_extension.md, issue 15 point 5)', () => {
    const srcs = sources();
    srcs[3] = source('extension', 0, 'x', extToml('t/x', '0.1.0'), { hasDetect: false, hasGenerate: false, hasGenerateDir: false });
    const planned = plan(CONFIG, srcs);
    expect(errors(planned)).toEqual([]);
    expect(planned.plan?.extensions.map((e) => e.descriptor.id)).toContain('t/x');
  });

  it('accepts an extension of every Buildpack API the lifecycle runs (0.7 here) and refuses an unsupported one (exit 12)', () => {
    const srcs = sources();
    srcs[3] = source('extension', 0, 'x', extToml('t/x', '0.1.0').replace(/api = "[^"]+"/, 'api = "0.7"'));
    expect(errors(plan(CONFIG, srcs))).toEqual([]);
    srcs[3] = source('extension', 0, 'x', extToml('t/x', '0.1.0').replace(/api = "[^"]+"/, 'api = "0.6"'));
    expect(errors(plan(CONFIG, srcs))).toMatchObject([{ keyPath: 'api', code: 'unsupported-buildpack-api', message: expect.stringContaining('Buildpack API 0.6 is not supported') }]);
  });

  it('requires composite members to be provided, and a descriptor file', () => {
    const srcs = sources().filter((s) => s.entry.uri !== 'a');
    const text = CONFIG.replace('[[buildpacks]]\nuri = "a"\n', '');
    srcs.forEach((s) => {
      if (s.kind === 'buildpack') s.index -= 1;
    });
    expect(errors(plan(text, srcs)).map((e) => e.message)).toEqual([expect.stringContaining('t/a@1.0.0 (in composite t/meta@0.1.0) is not provided')]);
    const missing = sources();
    missing[3] = source('extension', 0, 'x', undefined);
    expect(errors(plan(CONFIG, missing)).map((e) => e.message)).toEqual([expect.stringContaining('x has no extension.toml')]);
  });

  it('refuses composites that form a cycle, naming the chain (issue 14: at builder create, not at every build)', () => {
    const srcs = sources();
    // t/meta -> t/loop -> t/meta
    srcs[2] = source('buildpack', 2, 'meta', bpToml('t/meta', '0.1.0', '[[order]]\n[[order.group]]\nid = "t/loop"\nversion = "1.0.0"\n'), { hasDetect: false, hasBuild: false });
    srcs.push(source('buildpack', 3, 'loop', bpToml('t/loop', '1.0.0', '[[order]]\n[[order.group]]\nid = "t/meta"\nversion = "0.1.0"\n'), { hasDetect: false, hasBuild: false }));
    const text = CONFIG.replace('[[extensions]]\nuri = "x"', '[[buildpacks]]\nuri = "loop"\n[[extensions]]\nuri = "x"');
    const errs = errors(plan(text, srcs));
    expect(errs).toHaveLength(1);
    expect(errs[0]?.message).toMatch(/cycle \((t\/meta@0\.1\.0 -> t\/loop@1\.0\.0 -> t\/meta@0\.1\.0|t\/loop@1\.0\.0 -> t\/meta@0\.1\.0 -> t\/loop@1\.0\.0)\)/);
    expect(errs[0]?.file).toMatch(/buildpack\.toml$/);
  });

  it('refuses ids and versions that contradict the descriptor', () => {
    const srcs = sources();
    srcs[0] = { ...(srcs[0] as ModuleSource), entry: { id: 't/other', version: '', uri: 'a' } };
    expect(errors(plan(CONFIG, srcs)).map((e) => e.keyPath)).toContain('buildpacks[0].id');
  });
});
