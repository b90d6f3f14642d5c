import { describe, expect, it } from 'vitest';
import { decodeLifecycleMetadata, encodeLifecycleMetadata, type LifecycleMetadata } from '../../../src/image/lifecycle-labels.js';
import { candidateRunImages, extensionLayerCount, nameOf, planRebase, rebaseRefusals } from '../../../src/image/rebase-plan.js';
import type { ImageInfo } from '../../../src/ports.js';

const d = (c: string): string => `sha256:${c.repeat(64)}`;

function image(layers: string[], labels: Record<string, string> = {}, id = d('0')): ImageInfo {
  return { id, repoTags: [], repoDigests: [], os: 'linux', architecture: 'amd64', layers, size: 0, created: '', config: { env: [], user: '1000', workingDir: '/workspace', entrypoint: ['/cnb/process/web'], cmd: null, labels } };
}

const md: LifecycleMetadata = {
  app: [{ sha: d('a') }],
  config: { sha: d('c') },
  launcher: { sha: d('l') },
  processTypes: { sha: '' },
  buildpacks: [{ key: 'ex/bp', version: '1', layers: { tools: { sha: d('b'), data: {}, build: false, launch: true, cache: false } } }],
  runImage: { topLayer: d('2'), reference: d('9'), image: 'run:1', mirrors: ['mirror/run:1'] },
  stack: { runImage: { image: 'run:1', mirrors: ['mirror/run:1'] } },
};
// run layers 1,2; extension layer e; buildpack b; app a; launcher l; config c
const app = image([d('1'), d('2'), d('e'), d('b'), d('a'), d('l'), d('c')], {
  'io.buildpacks.lifecycle.metadata': encodeLifecycleMetadata(md),
  'io.buildpacks.base.id': 'old',
  'io.buildpacks.stack.id': 'old-stack',
  'io.buildpacks.rebasable': 'false',
  'org.example': 'kept',
});
const newBase = image([d('1'), d('3'), d('4')], { 'io.buildpacks.base.id': 'new', 'other.label': 'not copied' }, d('8'));

describe('rebase plan', () => {
  it('names: digest ignored; candidates are the image then mirrors', () => {
    expect(nameOf('run:1@sha256:abc')).toBe('run:1');
    expect(candidateRunImages(md)).toEqual(['run:1', 'mirror/run:1']);
    expect(candidateRunImages({ ...md, runImage: { ...md.runImage, image: '', mirrors: [] } })).toEqual(['run:1', 'mirror/run:1']);
  });

  it('refuses rebasable=false and a run image outside image/mirrors; a mirror is fine', () => {
    expect(rebaseRefusals(app, md, 'mirror/run:1', newBase).map((r) => r.kind)).toEqual(['rebasable']);
    expect(rebaseRefusals(app, md, 'elsewhere:2', newBase).map((r) => r.kind)).toEqual(['rebasable', 'run-image']);
    expect(rebaseRefusals(app, md, 'run:1', { ...newBase, architecture: 'arm64' }).map((r) => r.kind)).toEqual(['rebasable', 'target']);
    const lost = rebaseRefusals(app, { ...md, runImage: { ...md.runImage, topLayer: d('7') } }, 'run:1', newBase).find((r) => r.kind === 'top-layer');
    expect(lost?.fatal).toBe(true);
  });

  it('keeps every layer above the top layer (extension layers too) and rewrites the labels', () => {
    const p = planRebase(app, md, 'run:1', newBase);
    expect(p.diffIds).toEqual([d('1'), d('3'), d('4'), d('e'), d('b'), d('a'), d('l'), d('c')]);
    expect(p.metadata.runImage).toEqual({ topLayer: d('4'), reference: d('8'), image: 'run:1', mirrors: ['mirror/run:1'] });
    expect(p.labels['io.buildpacks.base.id']).toBe('new');
    expect(p.labels['io.buildpacks.stack.id']).toBeUndefined();
    expect(p.labels['other.label']).toBeUndefined();
    expect(p.labels['org.example']).toBe('kept');
    expect(p.labels['io.buildpacks.rebasable']).toBe('false');
    expect(decodeLifecycleMetadata(p.labels['io.buildpacks.lifecycle.metadata'] ?? '').runImage.topLayer).toBe(d('4'));
  });

  it('a forced run image outside the list is recorded with no mirrors, stack too', () => {
    const p = planRebase(app, md, 'elsewhere:2', newBase);
    expect(p.metadata.runImage.image).toBe('elsewhere:2');
    expect(p.metadata.runImage.mirrors).toEqual([]);
    expect(p.metadata.stack.runImage).toEqual({ image: 'elsewhere:2', mirrors: [] });
  });

  it('--reextend: extension layers counted, replaced by the re-extended base, rebasable recomputed', () => {
    expect(extensionLayerCount(app, md)).toBe(1);
    const p = planRebase(app, md, 'run:1', newBase, { layers: [...newBase.layers, d('f')], rebasable: true });
    expect(p.diffIds).toEqual([d('1'), d('3'), d('4'), d('f'), d('b'), d('a'), d('l'), d('c')]);
    expect(p.metadata.runImage.topLayer).toBe(d('4'));
    expect(p.labels['io.buildpacks.rebasable']).toBe('true');
  });
});
