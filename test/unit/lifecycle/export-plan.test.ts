import { describe, expect, it } from 'vitest';
import { KilnError } from '../../../src/errors.js';
import { decodeBuildMetadata, decodeLifecycleMetadata, type LifecycleMetadata } from '../../../src/image/lifecycle-labels.js';
import {
  checkProcessTypes,
  configLayerEntries,
  decideLaunchLayer,
  launcherLayerEntries,
  launchLayers,
  planImage,
  processTypesLayerEntries,
  selectEntrypoint,
  type BuiltLayers,
} from '../../../src/lifecycle/export/plan.js';
import type { ExportInput } from '../../../src/lifecycle/export/types.js';
import type { ImageInfo } from '../../../src/ports.js';
import { parseToml } from '../../../src/cnb/toml.js';

const sha = (c: string): string => `sha256:${c.repeat(64).slice(0, 64)}`;

function image(id: string, layers: string[], over: Partial<ImageInfo['config']> = {}): ImageInfo {
  return {
    id,
    repoTags: [],
    repoDigests: [],
    os: 'linux',
    architecture: 'amd64',
    layers,
    size: 0,
    created: '',
    config: { env: ['PATH=/usr/bin:/bin', 'LANG=C'], user: '1000:1000', workingDir: '/', entrypoint: null, cmd: ['sh'], labels: { 'io.buildpacks.rebasable': 'true', 'io.buildpacks.base.distro': 'busybox' }, ...over },
  };
}

function input(over: Partial<ExportInput> = {}): ExportInput {
  return {
    tags: ['app:latest'],
    runImage: { info: image(sha('1'), [sha('a'), sha('b')]), reference: sha('1'), image: 'run:1', mirrors: ['mirror/run:1'] },
    user: { uid: 1000, gid: 1001 },
    volumes: { layers: 'lv', app: 'av' },
    helperImage: 'builder',
    group: [
      { id: 'test/node', version: '1.0.0', api: '0.10', homepage: 'https://x' },
      { id: 'test/empty', version: '2.0.0', api: '0.9' },
    ],
    groupExtensions: [],
    layerMetadata: {
      'test/node': {
        zeta: { types: { launch: true, build: false, cache: false }, metadata: { v: 1 } },
        alpha: { types: { launch: true, build: true, cache: true }, metadata: {} },
        buildonly: { types: { launch: false, build: true, cache: true }, metadata: {} },
      },
    },
    storeMetadata: { 'test/node': { k: 'v' } },
    processes: [
      { type: 'web', command: ['node', 'server.js'], args: ['--port', '8080'], direct: true, default: false, buildpackId: 'test/node' },
      { type: 'worker', command: ['node'], args: ['w.js'], direct: true, default: false, buildpackId: 'test/node', workingDir: '/workspace/w' },
    ],
    defaultProcessType: 'web',
    labels: [
      { key: 'org.example.a', value: '1' },
      { key: 'org.example.a', value: '2' },
    ],
    slices: [],
    projectMetadata: {},
    ...over,
  };
}

const built: BuiltLayers = {
  buildpackLayers: [
    { buildpackId: 'test/node', name: 'alpha', diffId: sha('c') },
    { buildpackId: 'test/node', name: 'zeta', diffId: sha('d') },
  ],
  sbom: sha('e'),
  app: [sha('f')],
  launcher: sha('7'),
  config: sha('8'),
  processTypes: sha('9'),
};

describe('launchLayers', () => {
  it('takes launch=true layers in group order, then by name', () => {
    expect(launchLayers(input()).map((l) => `${l.buildpackId}:${l.name}@${l.volumePath}`)).toEqual(['test/node:alpha@test_node/alpha', 'test/node:zeta@test_node/zeta']);
  });
});

describe('decideLaunchLayer', () => {
  const [alpha, zeta] = launchLayers(input());
  const previous = { buildpacks: [{ key: 'test/node', version: '1', layers: { alpha: { sha: sha('c') }, zeta: { sha: sha('5') } } }] } as unknown as LifecycleMetadata;
  it('adds a changed layer and reuses an identical one', () => {
    expect(decideLaunchLayer(zeta!, sha('d'), previous)).toEqual({ kind: 'added', diffId: sha('d'), fromPrevious: false });
    expect(decideLaunchLayer(alpha!, sha('c'), previous)).toEqual({ kind: 'reused', diffId: sha('c'), fromPrevious: false });
  });
  it('reuses the previous layer when the dir is gone', () => {
    expect(decideLaunchLayer(zeta!, undefined, previous)).toEqual({ kind: 'reused', diffId: sha('5'), fromPrevious: true });
  });
  it('fails with 62 for cache=true without contents and for no previous metadata', () => {
    expect(() => decideLaunchLayer(alpha!, undefined, previous)).toThrow(/launch=true and cache=true/);
    try {
      decideLaunchLayer(zeta!, undefined, undefined);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KilnError);
      expect((e as KilnError).exitCode).toBe(62);
      expect((e as KilnError).message).toMatch(/previous image has no metadata/);
    }
  });
});

describe('selectEntrypoint', () => {
  it('uses the platform type, else the default, else the launcher', () => {
    expect(selectEntrypoint(input({ processTypeOverride: 'worker' })).entrypoint).toBe('/cnb/process/worker');
    expect(selectEntrypoint(input()).entrypoint).toBe('/cnb/process/web');
    const { defaultProcessType: _d, ...noDefault } = input();
    expect(selectEntrypoint(noDefault).entrypoint).toBe('/cnb/lifecycle/launcher');
    const r = selectEntrypoint(input({ defaultProcessType: 'gone' }));
    expect(r.entrypoint).toBe('/cnb/lifecycle/launcher');
    expect(r.warning).toMatch(/gone/);
  });
  it('rejects an unknown platform process type with 62', () => {
    expect(() => selectEntrypoint(input({ processTypeOverride: 'nope' }))).toThrow(/process type "nope" is not defined/);
  });
});

describe('checkProcessTypes', () => {
  it.each(['a/b', 'a:b', 'a|b', 'a&b', 'a\\b', '..', ''])('rejects %j', (type) => {
    expect(() => checkProcessTypes({ processes: [{ type, command: ['x'], args: [], direct: true, default: false, buildpackId: 'b' }] })).toThrow(KilnError);
  });
  it('accepts letters, digits, dots, dashes and underscores', () => {
    expect(() => checkProcessTypes({ processes: [{ type: 'web-1.a_b', command: ['x'], args: [], direct: true, default: false, buildpackId: 'b' }] })).not.toThrow();
  });
});

describe('generated layers', () => {
  it('launcher layer: /cnb, /cnb/lifecycle, the launcher, root-owned 0755', () => {
    const e = launcherLayerEntries();
    expect(e.map((x) => [x.path, x.type, x.mode, x.uid ?? 0])).toEqual([
      ['cnb', 'directory', 0o755, 0],
      ['cnb/lifecycle', 'directory', 0o755, 0],
      ['cnb/lifecycle/launcher', 'file', 0o755, 0],
    ]);
    expect(String(e[2]?.content)).toMatch(/^#!\/bin\/sh\n/);
  });
  it('process-types layer: one symlink per type; none without processes', () => {
    expect(processTypesLayerEntries(input())?.map((x) => `${x.path}->${x.linkname ?? ''}`)).toEqual(['cnb->', 'cnb/process->', 'cnb/process/web->/cnb/lifecycle/launcher', 'cnb/process/worker->/cnb/lifecycle/launcher']);
    expect(processTypesLayerEntries({ processes: [] })).toBeUndefined();
  });
  it('config layer: metadata.toml and the process table, owned by the CNB user', () => {
    const e = configLayerEntries(input());
    expect(e.every((x) => x.uid === 1000 && x.gid === 1001)).toBe(true);
    const meta = e.find((x) => x.path === 'layers/config/metadata.toml');
    const parsed = parseToml(String(meta?.content), 'metadata.toml').value;
    expect(parsed).toEqual({
      'buildpack-default-process-type': 'web',
      buildpacks: [
        { id: 'test/node', version: '1.0.0', api: '0.10', homepage: 'https://x' },
        { id: 'test/empty', version: '2.0.0', api: '0.9' },
      ],
      processes: [
        { type: 'web', command: ['node', 'server.js'], args: ['--port', '8080'], direct: true, 'buildpack-id': 'test/node' },
        { type: 'worker', command: ['node'], args: ['w.js'], direct: true, 'buildpack-id': 'test/node', 'working-dir': '/workspace/w' },
      ],
      labels: [
        { key: 'org.example.a', value: '1' },
        { key: 'org.example.a', value: '2' },
      ],
    });
    const paths = e.map((x) => x.path);
    expect(paths).toContain('layers/config/kiln-launch/buildpacks');
    expect(paths).toContain('layers/config/kiln-launch/processes/web/command/0001');
    expect(String(e.find((x) => x.path === 'layers/config/kiln-launch/processes/worker/working-dir')?.content)).toBe('/workspace/w');
  });
});

describe('planImage', () => {
  it('orders layers and writes history as the exporter does', () => {
    const p = planImage(input(), built);
    expect(p.baseLayers).toEqual([sha('a'), sha('b')]);
    expect(p.layers).toEqual([
      { diffId: sha('c'), createdBy: "Layer: 'alpha', Created by buildpack: test/node@1.0.0" },
      { diffId: sha('d'), createdBy: "Layer: 'zeta', Created by buildpack: test/node@1.0.0" },
      { diffId: sha('e'), createdBy: 'Software Bill-of-Materials' },
      { diffId: sha('f'), createdBy: 'Application Layer' },
      { diffId: sha('7'), createdBy: 'Buildpacks Application Launcher' },
      { diffId: sha('8'), createdBy: 'Buildpacks Launcher Config' },
      { diffId: sha('9'), createdBy: 'Buildpacks Process Types' },
    ]);
    expect(p.created).toBe('1980-01-01T00:00:01Z');
  });

  it('names app slices', () => {
    const p = planImage(input(), { ...built, app: [sha('2'), sha('3')] });
    expect(p.layers.filter((l) => l.createdBy.startsWith('Application')).map((l) => l.createdBy)).toEqual(['Application Slice: 1', 'Application Slice: 2']);
  });

  it('sets the config as the exporter does', () => {
    const { config } = planImage(input(), built);
    expect(config.entrypoint).toEqual(['/cnb/process/web']);
    expect(config.cmd).toEqual([]);
    expect(config.workingDir).toBe('/workspace');
    expect(config.user).toBe('1000:1000');
    expect(config.env).toEqual([
      'PATH=/cnb/process:/cnb/lifecycle:/usr/bin:/bin',
      'LANG=C',
      'CNB_LAYERS_DIR=/layers',
      'CNB_APP_DIR=/workspace',
      'CNB_PLATFORM_API=0.13',
      'CNB_DEPRECATION_MODE=quiet',
    ]);
    expect(config.labels['org.example.a']).toBe('2');
    expect(config.labels['io.buildpacks.base.distro']).toBe('busybox');
    expect(config.labels['io.buildpacks.rebasable']).toBe('true');
    expect(JSON.parse(config.labels['io.buildpacks.project.metadata'] ?? '')).toEqual({});
  });

  it('writes io.buildpacks.lifecycle.metadata (platform.md, "Labels")', () => {
    const { config } = planImage(input(), built);
    const raw = JSON.parse(config.labels['io.buildpacks.lifecycle.metadata'] ?? '') as unknown;
    expect(raw).toEqual({
      app: [{ sha: sha('f') }],
      sbom: { sha: sha('e') },
      config: { sha: sha('8') },
      launcher: { sha: sha('7') },
      'process-types': { sha: sha('9') },
      buildpacks: [
        {
          key: 'test/node',
          version: '1.0.0',
          layers: {
            alpha: { sha: sha('c'), data: {}, build: true, launch: true, cache: true },
            zeta: { sha: sha('d'), data: { v: 1 }, build: false, launch: true, cache: false },
          },
          store: { metadata: { k: 'v' } },
        },
        { key: 'test/empty', version: '2.0.0', layers: {} },
      ],
      runImage: { topLayer: sha('b'), reference: sha('1'), image: 'run:1', mirrors: ['mirror/run:1'] },
      stack: { runImage: { image: 'run:1', mirrors: ['mirror/run:1'] } },
    });
    expect(decodeLifecycleMetadata(config.labels['io.buildpacks.lifecycle.metadata'] ?? '').runImage.topLayer).toBe(sha('b'));
  });

  it('writes io.buildpacks.build.metadata per platform.md (api and homepage of buildpacks and extensions, issue 15 point 9)', () => {
    const { config } = planImage(input({ groupExtensions: [{ id: 'test/ext', version: '0.1.0', api: '0.10', homepage: 'https://ext' }, { id: 'test/bare', version: '0.2.0', api: '0.12' }] }), built);
    const raw = JSON.parse(config.labels['io.buildpacks.build.metadata'] ?? '') as Record<string, unknown>;
    expect(raw.buildpacks).toEqual([
      { id: 'test/node', version: '1.0.0', homepage: 'https://x', api: '0.10' },
      { id: 'test/empty', version: '2.0.0', api: '0.9' },
    ]);
    expect(raw.extensions).toEqual([
      { id: 'test/ext', version: '0.1.0', homepage: 'https://ext', api: '0.10' },
      { id: 'test/bare', version: '0.2.0', api: '0.12' },
    ]);
    expect(decodeBuildMetadata(config.labels['io.buildpacks.build.metadata'] ?? '').extensions[0]).toEqual({ id: 'test/ext', version: '0.1.0', homepage: 'https://ext', api: '0.10' });
    expect(raw.processes).toEqual([
      { type: 'web', command: ['node', 'server.js'], args: ['--port', '8080'], direct: true, buildpackID: 'test/node' },
      { type: 'worker', command: ['node'], args: ['w.js'], direct: true, buildpackID: 'test/node', 'working-dir': '/workspace/w' },
    ]);
    expect(raw['buildpack-default-process-type']).toBe('web');
    expect(decodeBuildMetadata(config.labels['io.buildpacks.build.metadata'] ?? '').processes[1]?.workingDir).toBe('/workspace/w');
  });

  it('takes the config from the extended run image but topLayer from the original', () => {
    const ext = image(sha('2'), [sha('a'), sha('b'), sha('3')], { user: '0:0', env: ['PATH=/ext/bin'], labels: { 'io.buildpacks.rebasable': 'true', 'x.ext': '1' } });
    const inp = input();
    inp.runImage.extended = { info: ext, extensionLayers: [{ diffId: sha('3'), extensionId: 'test/ext', command: 'RUN apk add x' }], rebasable: false };
    const p = planImage(inp, built);
    expect(p.baseLayers).toEqual([sha('a'), sha('b'), sha('3')]);
    expect(p.extensionHistory).toEqual([{ diffId: sha('3'), createdBy: "Layer: 'RUN apk add x', Created by extension: test/ext" }]);
    expect(p.config.user).toBe('0:0');
    expect(p.config.env[0]).toBe('PATH=/cnb/process:/cnb/lifecycle:/ext/bin');
    expect(p.config.labels['x.ext']).toBe('1');
    expect(p.config.labels['io.buildpacks.rebasable']).toBe('false');
    expect(decodeLifecycleMetadata(p.config.labels['io.buildpacks.lifecycle.metadata'] ?? '').runImage.topLayer).toBe(sha('b'));
  });

  it('records an empty process-types sha and omits sbom when absent', () => {
    const { sbom: _s, processTypes: _p, ...rest } = built;
    const p = planImage(input({ processes: [] }), rest);
    const raw = JSON.parse(p.config.labels['io.buildpacks.lifecycle.metadata'] ?? '') as Record<string, unknown>;
    expect(raw['process-types']).toEqual({ sha: '' });
    expect(raw.sbom).toBeUndefined();
    expect(p.config.entrypoint).toEqual(['/cnb/lifecycle/launcher']);
    expect(p.layers.map((l) => l.createdBy)).not.toContain('Buildpacks Process Types');
  });
});
