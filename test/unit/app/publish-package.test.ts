import { describe, expect, it } from 'vitest';
import { moduleIdentity, packageLabels } from '../../../src/app/package-module.js';
import { hasRegistryHost, publishImage } from '../../../src/app/publish.js';
import type { KilnEvent } from '../../../src/ports.js';
import { FakeEngine } from '../../helpers/fake-engine.js';

describe('publish', () => {
  it('tells registry hosts from Docker Hub names', () => {
    expect(hasRegistryHost('127.0.0.1:5000/app:1')).toBe(true);
    expect(hasRegistryHost('localhost/app')).toBe(true);
    expect(hasRegistryHost('registry.example.com/team/app')).toBe(true);
    expect(hasRegistryHost('team/app:1')).toBe(false);
    expect(hasRegistryHost('app')).toBe(false);
  });

  it('pushes through the engine and reports; an engine without pushImage is an error', async () => {
    const pushed: string[] = [];
    const events: KilnEvent[] = [];
    const engine = new FakeEngine({ pushImage: (ref: string) => Promise.resolve(void pushed.push(ref)) });
    await publishImage(engine, { emit: (e) => events.push(e) }, 'team/app:1');
    expect(pushed).toEqual(['team/app:1']);
    expect(events.map((e) => e.type)).toEqual(['warning', 'info', 'info']);
    await expect(publishImage(new FakeEngine(), { emit: () => undefined }, 'x')).rejects.toThrow(/cannot push/);
  });
});

describe('package labels', () => {
  it('reads id/version/api and writes the layers and buildpackage metadata labels', () => {
    const m = moduleIdentity('buildpack', 'api = "0.10"\n[buildpack]\nid = "ex/bp"\nversion = "1.0.0"\nname = "BP"\n', 'buildpack.toml');
    expect(m).toEqual({ id: 'ex/bp', version: '1.0.0', api: '0.10', name: 'BP' });
    const l = packageLabels('buildpack', m, 'sha256:x');
    expect(JSON.parse(l['io.buildpacks.buildpack.layers'] ?? '')).toEqual({ 'ex/bp': { '1.0.0': { api: '0.10', layerDiffID: 'sha256:x', name: 'BP' } } });
    expect(JSON.parse(l['io.buildpacks.buildpackage.metadata'] ?? '')).toEqual({ id: 'ex/bp', version: '1.0.0', name: 'BP' });
    expect(Object.keys(packageLabels('extension', m, 'sha256:x'))).toEqual(['io.buildpacks.extension.layers', 'io.buildpacks.buildpackage.metadata']);
    expect(() => moduleIdentity('extension', 'api = "0.10"\n[buildpack]\nid = "x"\n', 'extension.toml')).toThrow(/no \[extension\] table/);
  });
});
