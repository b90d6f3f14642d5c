import { describe, expect, it } from 'vitest';
import type { ReadTarEntry } from '../../../src/image/tar-files.js';
import { addLaunch, emptyLaunchAggregate, postProcess, removeMet, sortedProcesses } from '../../../src/lifecycle/build-post.js';
import { KilnError } from '../../../src/errors.js';

const file = (path: string, content: string): ReadTarEntry => ({ path, type: 'file', mode: 0o644, uid: 1000, gid: 1000, content: Buffer.from(content) });
const dir = (path: string): ReadTarEntry => ({ path, type: 'directory', mode: 0o755, uid: 1000, gid: 1000, content: Buffer.alloc(0) });
const base = { id: 'acme/node', version: '1.0.0', api: '0.10', sbomFormats: [] as string[], layersDir: '/layers/acme_node', plan: [] };

function exitOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof KilnError ? e.exitCode : -1;
  }
  return undefined;
}

describe('postProcess layers', () => {
  it('collects build layers with existing root dirs and env files', () => {
    const r = postProcess({
      ...base,
      entries: [
        file('tool.toml', '[types]\nbuild = true\n'),
        dir('tool'),
        dir('tool/bin'),
        dir('tool/env.build'),
        file('tool/env.build/FOO.append', 'x'),
        file('tool/env.build/FOO.delim', ':'),
        dir('tool/env.build/sub'),
        file('tool/env.build/sub/NOPE', 'n'),
        file('tool/env/BAR', 'b'),
        file('tool/bin/t', '#!/bin/sh'),
      ],
    });
    expect(r.buildLayers).toEqual([
      { name: 'tool', path: '/layers/acme_node/tool', rootDirs: ['bin'], env: [{ name: 'BAR', content: 'b' }], envBuild: [{ name: 'FOO.append', content: 'x' }, { name: 'FOO.delim', content: ':' }] },
    ]);
    expect(r.ignore).toEqual([]);
  });
  it('marks all-false layers with a directory for .ignore', () => {
    const r = postProcess({ ...base, entries: [file('a.toml', '[metadata]\nx = 1\n'), dir('a'), file('b.toml', ''), file('c.toml', '[types]\nlaunch = true\n'), dir('c')] });
    expect(r.ignore).toEqual(['a']);
    expect(r.layers.map((l) => [l.name, l.hasDir])).toEqual([['a', true], ['b', false], ['c', true]]);
  });
  it('top-level types are a build error 52', () => {
    expect(exitOf(() => postProcess({ ...base, entries: [file('a.toml', 'launch = true\n')] }))).toBe(52);
  });
  it('does not read launch.toml/build.toml/store.toml as layers', () => {
    const r = postProcess({ ...base, entries: [file('store.toml', '[metadata]\nk = "v"\n')] });
    expect(r.layers).toEqual([]);
    expect(r.store).toEqual({ k: 'v' });
  });
});

describe('postProcess build.toml', () => {
  const plan = [{ name: 'node', metadata: {} }, { name: 'npm', metadata: {} }];
  it('unmet names must be in the plan', () => {
    expect(exitOf(() => postProcess({ ...base, plan, entries: [file('build.toml', '[[unmet]]\nname = "x"\n')] }))).toBe(52);
  });
  it('met = plan names not unmet', () => {
    const r = postProcess({ ...base, plan, entries: [file('build.toml', '[[unmet]]\nname = "npm"\n')] });
    expect(r.met).toEqual(['node']);
    expect(r.unmet).toEqual(['npm']);
  });
});

describe('postProcess SBOM', () => {
  const entries = [file('node.toml', '[types]\nlaunch = true\ncache = true\n'), file('node.sbom.cdx.json', '{}'), file('launch.sbom.spdx.json', '{}'), file('ghost.sbom.cdx.json', '{}')];
  it('undeclared media type is a build error', () => {
    expect(exitOf(() => postProcess({ ...base, entries }))).toBe(52);
  });
  it('unknown format is a build error', () => {
    expect(exitOf(() => postProcess({ ...base, sbomFormats: ['application/vnd.cyclonedx+json'], entries: [file('x.sbom.foo.json', '{}')] }))).toBe(52);
  });
  it('copies to launch/cache destinations and ignores layers without toml', () => {
    const r = postProcess({ ...base, sbomFormats: ['application/vnd.cyclonedx+json', 'application/spdx+json; version=2.3'], entries });
    expect(r.sbom.map((s) => s.to).sort()).toEqual([
      'sbom/cache/acme_node/node/sbom.cdx.json',
      'sbom/launch/acme_node/node/sbom.cdx.json',
      'sbom/launch/acme_node/sbom.spdx.json',
    ]);
  });
});

describe('postProcess launch.toml', () => {
  it('two defaults in one file fail with 52', () => {
    const text = '[[processes]]\ntype = "a"\ncommand = ["x"]\ndefault = true\n[[processes]]\ntype = "b"\ncommand = ["y"]\ndefault = true\n';
    expect(exitOf(() => postProcess({ ...base, entries: [file('launch.toml', text)] }))).toBe(52);
  });
  it('direct key at API 0.9+ fails with 52', () => {
    expect(exitOf(() => postProcess({ ...base, entries: [file('launch.toml', '[[processes]]\ntype = "a"\ncommand = ["x"]\ndirect = true\n')] }))).toBe(52);
  });
});

describe('process aggregation', () => {
  const proc = (type: string, cmd: string, dflt = false) => ({ type, command: [cmd], args: [], direct: true, default: dflt });
  it('later definitions win; result sorted by type; default tracked', () => {
    let agg = addLaunch(emptyLaunchAggregate(), 'a', { labels: [{ key: 'k', value: '1' }], processes: [proc('web', 'a-web', true), proc('worker', 'a-w')], slices: [] });
    agg = addLaunch(agg, 'b', { labels: [{ key: 'k', value: '2' }], processes: [proc('cli', 'b-cli')], slices: [{ paths: ['x'] }] });
    expect(sortedProcesses(agg).map((p) => [p.type, p.command[0], p.buildpackId])).toEqual([['cli', 'b-cli', 'b'], ['web', 'a-web', 'a'], ['worker', 'a-w', 'a']]);
    expect(agg.defaultType).toBe('web');
    expect(agg.labels).toEqual([{ key: 'k', value: '1' }, { key: 'k', value: '2' }]);
    expect(agg.slices).toEqual([{ paths: ['x'] }]);
  });
  it('a later non-default process of the default type clears the default with a warning', () => {
    let agg = addLaunch(emptyLaunchAggregate(), 'a', { labels: [], processes: [proc('web', 'a', true)], slices: [] });
    agg = addLaunch(agg, 'b', { labels: [], processes: [proc('web', 'b')], slices: [] });
    expect(agg.defaultType).toBeUndefined();
    expect(agg.warnings).toHaveLength(1);
    expect(sortedProcesses(agg)[0]?.command).toEqual(['b']);
  });
});

describe('plan handling', () => {
  const entries = [
    { providers: [{ id: 'a', version: '1' }], requires: [{ name: 'x', metadata: { v: 1 } }, { name: 'x', metadata: {} }] },
    { providers: [{ id: 'b', version: '1' }], requires: [{ name: 'y', metadata: {} }] },
  ];
  it('met entries disappear for later buildpacks; unmet ones stay', () => {
    expect(removeMet(entries, ['x']).map((e) => e.requires[0]?.name)).toEqual(['y']);
    expect(removeMet(entries, [])).toHaveLength(2);
  });
});

describe('scanLayersDir', () => {
  it('keeps every entry but only metadata contents, relative to the buildpack dir', async () => {
    const { makeTar } = await import('../../../src/image/tar-files.js');
    const { scanLayersDir, isMetadataPath } = await import('../../../src/lifecycle/container/layers-scan.js');
    const { Readable } = await import('node:stream');
    const tar = await makeTar([
      { path: 'acme_a', type: 'directory' },
      { path: 'acme_a/tool.toml', content: '[types]\nbuild = true\n' },
      { path: 'acme_a/tool', type: 'directory' },
      { path: 'acme_a/tool/big.bin', content: Buffer.alloc(4096, 1) },
      { path: 'acme_a/tool/env.build/FOO', content: 'x' },
      { path: 'acme_a/tool/env.build/sub/BAR', content: 'y' },
    ]);
    const entries = await scanLayersDir(Readable.from([tar]), 'acme_a');
    expect(entries.map((e) => [e.path, e.content.length])).toEqual([
      ['tool.toml', 21],
      ['tool', 0],
      ['tool/big.bin', 0],
      ['tool/env.build/FOO', 1],
      ['tool/env.build/sub/BAR', 0],
    ]);
    expect(isMetadataPath('launch.toml')).toBe(true);
    expect(isMetadataPath('tool/env.launch/X')).toBe(true);
    expect(isMetadataPath('tool/bin/x')).toBe(false);
  });
});
