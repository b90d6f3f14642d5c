/**
 * Pure parts of the rebuild cache (issue 5): the restore plan (platform.md, "`restorer`"; buildpack.md, "Reusing Layers"; platform.md, "Layer Restoration"), the
 * cache metadata round trip, what is saved and which dirs export may skip, fingerprint parsing, and
 * the extended-image cache key (build_id excluded; a Dockerfile using it is never reused).
 */
import { describe, expect, it } from 'vitest';
import type { LifecycleMetadata } from '../../../src/image/lifecycle-labels.js';
import { decodeCacheMetadata, defaultCacheVolume, emptyCacheMetadata, saveScript, type CacheMetadata } from '../../../src/lifecycle/cache/cache-volume.js';
import { parseFingerprints, fingerprintScript } from '../../../src/lifecycle/cache/fingerprint.js';
import { nextCache, unchangedDirs } from '../../../src/lifecycle/cache/steps.js';
import { extendCacheKey, usesBuildId } from '../../../src/lifecycle/extend/cache.js';
import { planRestore } from '../../../src/lifecycle/restore.js';
import type { LayerMetadataFile } from '../../../src/cnb/models.js';

const sha = (c: string): string => `sha256:${c.repeat(64)}`;

function previous(layers: LifecycleMetadata['buildpacks'][number]['layers'], store?: Record<string, unknown>): LifecycleMetadata {
  return {
    app: [{ sha: sha('a') }],
    config: { sha: sha('c') },
    launcher: { sha: sha('d') },
    processTypes: { sha: '' },
    buildpacks: [{ key: 'bp/one', version: '1', layers, ...(store !== undefined ? { store: { metadata: store } } : {}) }],
    runImage: { topLayer: '', reference: '', image: 'run', mirrors: [] },
    stack: { runImage: { image: 'run', mirrors: [] } },
  };
}

function cacheOf(layers: CacheMetadata['buildpacks'][number]['layers']): CacheMetadata {
  return { version: 1, buildpacks: [{ key: 'bp/one', version: '1', layers }], diffIds: {} };
}

const L = (over: Partial<{ sha: string; build: boolean; launch: boolean; cache: boolean }>) => ({ sha: sha('1'), data: { v: 1 }, build: false, launch: false, cache: false, ...over });
const group = [{ id: 'bp/one' }];

describe('planRestore', () => {
  it('launch-only layers get metadata only; launch+build without cache are not restored', () => {
    const plan = planRestore(group, previous({ keep: L({ launch: true }), rebuild: L({ launch: true, build: true }) }, { s: 1 }), emptyCacheMetadata());
    expect(plan.tomls).toEqual([{ buildpackId: 'bp/one', name: 'keep', data: { v: 1 } }]);
    expect(plan.copies).toEqual([]);
    expect(plan.stores).toEqual([{ buildpackId: 'bp/one', metadata: { s: 1 } }]);
  });

  it('cache-only layers come from the cache with contents; launch+cache need a matching diffID', () => {
    const prev = previous({ both: L({ launch: true, cache: true, sha: sha('2') }), stale: L({ launch: true, cache: true, sha: sha('3') }) });
    const cache = cacheOf({
      deps: { ...L({ cache: true, build: true, sha: 'fp:x' }), fingerprint: 'x' },
      both: { ...L({ launch: true, cache: true, sha: sha('2') }), fingerprint: 'y' },
      stale: { ...L({ launch: true, cache: true, sha: sha('9') }), fingerprint: 'z' },
    });
    const plan = planRestore(group, prev, cache);
    expect(plan.copies.map((c) => c.name).sort()).toEqual(['both', 'deps']);
    expect(plan.tomls.map((c) => c.name).sort()).toEqual(['both', 'deps']);
    expect(plan.dropped).toEqual(['bp/one:stale']);
  });

  it('buildpacks not in the group are ignored', () => {
    expect(planRestore([{ id: 'other' }], previous({ keep: L({ launch: true }) }), emptyCacheMetadata()).tomls).toEqual([]);
  });
});

describe('cache metadata and saving', () => {
  const meta = (launch: boolean, cache: boolean): LayerMetadataFile => ({ types: { launch, build: false, cache }, metadata: { m: 1 } }) as LayerMetadataFile;

  it('round-trips through JSON; garbage gives an empty cache', () => {
    const m = cacheOf({ deps: { ...L({ cache: true }), fingerprint: 'f' } });
    expect(decodeCacheMetadata(JSON.stringify(m))).toEqual(m);
    expect(decodeCacheMetadata('{nope')).toEqual(emptyCacheMetadata());
    expect(decodeCacheMetadata('{"version":2}')).toEqual(emptyCacheMetadata());
  });

  it('the default volume name is stable per image and docker-valid', () => {
    expect(defaultCacheVolume('a/b:latest')).toBe(defaultCacheVolume('a/b:latest'));
    expect(defaultCacheVolume('a/b:latest')).toMatch(/^kiln-cache-[0-9a-f]{12}$/);
    expect(defaultCacheVolume('a/b:latest')).not.toBe(defaultCacheVolume('a/c:latest'));
  });

  it('nextCache records diffIDs by fingerprint, keeps unchanged cached dirs, and unchangedDirs needs the previous image to have them', () => {
    const lifecycle = JSON.stringify({ app: [{ sha: sha('a') }], config: { sha: '' }, launcher: { sha: '' }, 'process-types': { sha: '' }, buildpacks: [{ key: 'bp/one', version: '1', layers: { web: { sha: sha('w'), launch: true } } }], runImage: { topLayer: '', reference: '' } });
    const fps = { byPath: new Map([['bp_one/web', 'f1'], ['bp_one/deps', 'f2'], ['app', 'f3']]) };
    const old = cacheOf({ deps: { ...L({ cache: true, sha: 'fp:f2' }), fingerprint: 'f2' } });
    old.buildpacks[0]!.key = 'bp/one';
    const { meta: next, save } = nextCache({
      old,
      fps,
      built: [{ id: 'bp/one', version: '1', layers: [{ name: 'web', metadata: meta(true, false), hasDir: true }, { name: 'deps', metadata: meta(false, true), hasDir: true }] }],
      exportedLabels: { 'io.buildpacks.lifecycle.metadata': lifecycle },
    });
    expect(next.diffIds).toEqual({ 'bp_one/web@f1': sha('w'), 'app@f3': sha('a') });
    expect(save).toEqual([{ buildpackId: 'bp/one', name: 'deps', keep: true }]);
    expect(next.buildpacks[0]?.layers.deps?.sha).toBe('fp:f2');
    expect(unchangedDirs(next, fps, [sha('w')])).toEqual({ 'bp_one/web': sha('w') });
    expect(unchangedDirs(next, fps, [])).toEqual({});
  });

  it('saveScript moves kept dirs and copies changed ones, then swaps the tree', () => {
    const s = saveScript([{ buildpackId: 'bp/one', name: 'a', keep: true }, { buildpackId: 'bp/one', name: 'b', keep: false }]);
    expect(s.args).toEqual([
      '/kiln-cache/layers.new/bp_one', 'keep', '/kiln-cache/layers/bp_one/a', '/kiln-cache/layers.new/bp_one/a',
      '/kiln-cache/layers.new/bp_one', 'copy', '/layers/bp_one/b', '/kiln-cache/layers.new/bp_one/b',
    ]);
    expect(s.script).toContain('if [ "$2" = keep ]; then mv "$3" "$4"; else cp -a "$3" "$4"; fi');
    expect(s.script.trim().split('\n').at(-1)).toBe('mv /kiln-cache/layers.new /kiln-cache/layers');
  });

  it('fingerprint output is parsed; absent dirs are left out', () => {
    expect(fingerprintScript(['/layers/x'])).toMatchObject({ args: ['/layers/x'], script: expect.stringContaining('if [ -d "$p" ]') });
    expect(parseFingerprints([`FP /layers/x ${'a'.repeat(64)}`, 'FP /workspace -', 'noise'])).toEqual(new Map([['/layers/x', 'a'.repeat(64)]]));
  });
});

describe('extended-image cache key', () => {
  const base = { kind: 'run', baseImageId: sha('b'), dockerfile: 'FROM x\n', context: Buffer.from('ctx'), args: [{ name: 'build_id', value: '1' }, { name: 'user_id', value: '1000' }] };
  it('ignores build_id and covers base, Dockerfile, context and other args', () => {
    const k = extendCacheKey(base);
    expect(extendCacheKey({ ...base, args: [{ name: 'build_id', value: '2' }, { name: 'user_id', value: '1000' }] })).toBe(k);
    expect(extendCacheKey({ ...base, baseImageId: sha('c') })).not.toBe(k);
    expect(extendCacheKey({ ...base, dockerfile: 'FROM y\n' })).not.toBe(k);
    expect(extendCacheKey({ ...base, context: Buffer.from('ctx2') })).not.toBe(k);
    expect(extendCacheKey({ ...base, args: [{ name: 'user_id', value: '0' }] })).not.toBe(k);
  });
  it('a Dockerfile that uses build_id is never reused', () => {
    expect(usesBuildId('ARG build_id=0\nRUN echo ${build_id}\n')).toBe(true);
    expect(usesBuildId('FROM ${base_image}\n')).toBe(false);
  });
});
