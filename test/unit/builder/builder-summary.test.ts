import { describe, expect, it } from 'vitest';
import { formatBuilderSummary, summariseBuilder } from '../../../src/builder/builder-summary.js';
import type { ImageInfo } from '../../../src/ports.js';

function image(labels: Record<string, string>, env: string[] = ['CNB_USER_ID=1000', 'CNB_GROUP_ID=1001']): ImageInfo {
  return {
    id: 'sha256:abc',
    repoTags: [],
    repoDigests: [],
    os: 'linux',
    architecture: 'amd64',
    layers: [],
    config: { env, user: '1000:1001', workingDir: '/layers', entrypoint: null, cmd: null, labels },
    size: 0,
    created: '',
  };
}

// Labels as pack writes them (older pack: only stack.runImage, no images; no extensions).
const PACK_LABELS = {
  'io.buildpacks.builder.metadata': JSON.stringify({
    description: 'pack builder',
    buildpacks: [{ id: 'p/node', version: '1.0.0' }],
    stack: { runImage: { image: 'reg/run:1', mirrors: ['m/run:1'] } },
    lifecycle: { version: '0.17.0', api: { buildpack: '0.2', platform: '0.3' }, apis: { buildpack: { deprecated: [], supported: ['0.2', '0.10'] }, platform: { deprecated: [], supported: ['0.13'] } } },
    createdBy: { name: 'Pack CLI', version: '0.33.0' },
  }),
  'io.buildpacks.buildpack.layers': JSON.stringify({ 'p/node': { '1.0.0': { api: '0.10', layerDiffID: 'sha256:1', homepage: 'https://h' } } }),
  'io.buildpacks.buildpack.order': JSON.stringify([{ group: [{ id: 'p/node', version: '1.0.0', optional: true }] }]),
  'io.buildpacks.stack.id': 'io.buildpacks.stacks.jammy',
};

describe('summariseBuilder', () => {
  it('reads pack-made labels, falling back to stack.runImage', () => {
    const s = summariseBuilder('b', image(PACK_LABELS));
    expect(s).toMatchObject({
      description: 'pack builder',
      createdBy: { name: 'Pack CLI', version: '0.33.0' },
      baseId: 'io.buildpacks.stacks.jammy',
      cnbUser: { uid: 1000, gid: 1001 },
      buildpacks: [{ id: 'p/node', version: '1.0.0', api: '0.10', layerDiffID: 'sha256:1', homepage: 'https://h' }],
      extensions: [],
      order: [{ group: [{ id: 'p/node', version: '1.0.0', optional: true }] }],
      orderExtensions: [],
      runImages: [{ image: 'reg/run:1', mirrors: ['m/run:1'] }],
      lifecycle: { version: '0.17.0', buildpackApis: ['0.2', '0.10'], platformApis: ['0.13'] },
      warnings: [],
    });
    expect(s.buildImage).toBeUndefined();
    const text = formatBuilderSummary(s);
    expect(text).toContain('p/node@1.0.0  api 0.10  https://h');
    expect(text).toContain('    p/node@1.0.0 (optional)');
    expect(text).toContain('  reg/run:1 (mirrors: m/run:1)');
  });

  it('warns about a non-builder and malformed labels instead of failing', () => {
    const s = summariseBuilder('x', image({ 'io.buildpacks.buildpack.order': '{nope' }, []));
    expect(s.warnings).toEqual(['x has no io.buildpacks.builder.metadata label: it may not be a builder', 'label io.buildpacks.buildpack.order is not valid JSON']);
    expect(s.cnbUser).toBeUndefined();
    expect(formatBuilderSummary(s)).toContain('CNB user: (missing CNB_USER_ID/CNB_GROUP_ID)');
  });
});
