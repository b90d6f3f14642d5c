/**
 * Layer SBOMs restored with the layer metadata (issue 15 point 7; buildpack.md "Layer Types"): the
 * previous image's SBOM layer is indexed per layer, cached layers keep theirs in the cache metadata, and
 * the restore plan carries both (the image's win), never for a layer whose metadata is not restored.
 */
import { describe, expect, it } from 'vitest';
import type { LifecycleMetadata } from '../../../src/image/lifecycle-labels.js';
import type { ReadTarEntry } from '../../../src/image/tar-files.js';
import { decodeCacheMetadata, emptyCacheMetadata, type CacheMetadata } from '../../../src/lifecycle/cache/cache-volume.js';
import { nextCache } from '../../../src/lifecycle/cache/steps.js';
import { postProcess } from '../../../src/lifecycle/build-post.js';
import { indexLaunchSboms, layerSbomFile } from '../../../src/lifecycle/restore-sbom.js';
import { planRestore } from '../../../src/lifecycle/restore.js';

const sha = (c: string): string => `sha256:${c.repeat(64)}`;
const L = (over: Partial<{ sha: string; build: boolean; launch: boolean; cache: boolean }>) => ({ sha: sha('1'), data: { v: 1 }, build: false, launch: false, cache: false, ...over });

function previous(layers: LifecycleMetadata['buildpacks'][number]['layers']): LifecycleMetadata {
  return {
    app: [{ sha: sha('a') }],
    config: { sha: sha('c') },
    launcher: { sha: sha('d') },
    processTypes: { sha: '' },
    buildpacks: [{ key: 'bp/one', version: '1', layers }],
    runImage: { topLayer: '', reference: '', image: 'run', mirrors: [] },
    stack: { runImage: { image: 'run', mirrors: [] } },
    sbom: { sha: sha('s') },
  };
}

const file = (path: string, text: string) => ({ path, type: 'file', content: Buffer.from(text) });

describe('indexLaunchSboms', () => {
  it('keeps layer SBOMs by "<escaped bp>/<layer>" and format, not buildpack-level ones', () => {
    const idx = indexLaunchSboms([
      { path: 'launch', type: 'directory', content: Buffer.alloc(0) },
      file('launch/bp_one/node/sbom.cdx.json', '{"a":1}'),
      file('launch/bp_one/node/sbom.spdx.json', '{"b":2}'),
      file('launch/bp_one/sbom.cdx.json', '{"bp":1}'),
    ]);
    expect([...idx]).toEqual([['bp_one/node', { cdx: '{"a":1}', spdx: '{"b":2}' }]]);
    expect(layerSbomFile('node', 'cdx')).toBe('node.sbom.cdx.json');
    expect(layerSbomFile('node', '../x')).toBeUndefined();
  });
});

describe('planRestore with SBOMs', () => {
  const group = [{ id: 'bp/one' }];
  it('a launch layer gets the image SBOM; a cached layer the cache one; the image wins; build+launch without cache gets none', () => {
    const prev = previous({ web: L({ launch: true }), both: L({ launch: true, cache: true }), tool: L({ launch: true, build: true }) });
    const cache: CacheMetadata = {
      version: 1,
      buildpacks: [
        {
          key: 'bp/one',
          version: '1',
          layers: {
            deps: { ...L({ cache: true, sha: 'fp:x' }), fingerprint: 'x', sbom: { cdx: 'deps-cache' } },
            both: { ...L({ launch: true, cache: true }), fingerprint: 'y', sbom: { cdx: 'both-cache', syft: 'both-syft' } },
          },
        },
      ],
      diffIds: {},
    };
    const image = new Map([
      ['bp_one/web', { cdx: 'web-image' }],
      ['bp_one/both', { cdx: 'both-image' }],
      ['bp_one/tool', { cdx: 'tool-image' }],
    ]);
    const plan = planRestore(group, prev, cache, image);
    const byName = Object.fromEntries(plan.tomls.map((t) => [t.name, t.sbom]));
    expect(byName).toEqual({ web: { cdx: 'web-image' }, both: { cdx: 'both-image', syft: 'both-syft' }, deps: { cdx: 'deps-cache' } });
  });

  it('without SBOMs the entries carry none', () => {
    const plan = planRestore(group, previous({ web: L({ launch: true }) }), emptyCacheMetadata());
    expect(plan.tomls).toEqual([{ buildpackId: 'bp/one', name: 'web', data: { v: 1 } }]);
  });
});

describe('cached layer SBOMs', () => {
  it('postProcess attaches a layer its SBOM files; nextCache keeps them; the metadata round-trips', () => {
    const entry = (path: string, type: 'file' | 'directory', text = ''): ReadTarEntry => ({ path, type, content: Buffer.from(text), mode: 0o644, uid: 0, gid: 0 });
    const entries = [entry('deps.toml', 'file', '[types]\ncache = true\n'), entry('deps.sbom.cdx.json', 'file', '{"c":1}'), entry('deps', 'directory')];
    const post = postProcess({ id: 'bp/one', version: '1', api: '0.12', sbomFormats: ['application/vnd.cyclonedx+json'], layersDir: '/layers/bp_one', entries, plan: [] });
    expect(post.layers.find((l) => l.name === 'deps')?.sbom).toEqual({ cdx: '{"c":1}' });
    const { meta } = nextCache({ old: emptyCacheMetadata(), fps: { byPath: new Map([['bp_one/deps', 'f1']]) }, built: [{ id: 'bp/one', version: '1', layers: post.layers }], exportedLabels: {} });
    expect(meta.buildpacks[0]?.layers.deps?.sbom).toEqual({ cdx: '{"c":1}' });
    expect(decodeCacheMetadata(JSON.stringify(meta)).buildpacks[0]?.layers.deps?.sbom).toEqual({ cdx: '{"c":1}' });
  });
});
