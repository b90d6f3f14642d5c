import { describe, expect, it } from 'vitest';
import { formatAppImageSummary, summariseAppImage } from '../../../src/app/inspect-app.js';
import { encodeBuildMetadata, type LifecycleMetadata } from '../../../src/image/lifecycle-labels.js';
import type { ImageInfo } from '../../../src/ports.js';

const d = (c: string): string => `sha256:${c.repeat(64)}`;
const md: LifecycleMetadata = {
  app: [{ sha: d('a') }],
  sbom: { sha: d('s') },
  config: { sha: d('c') },
  launcher: { sha: d('l') },
  processTypes: { sha: d('p') },
  buildpacks: [{ key: 'ex/bp', version: '1', layers: { tools: { sha: d('b'), data: {}, build: false, launch: true, cache: false } } }],
  runImage: { topLayer: d('2'), reference: d('9'), image: 'run:1', mirrors: [] },
  stack: { runImage: { image: 'run:1', mirrors: [] } },
};
const build = encodeBuildMetadata({
  buildpacks: [{ id: 'ex/bp', version: '1', homepage: 'https://h' }],
  extensions: [{ id: 'ex/ext', version: '0.1' }],
  processes: [{ type: 'web', command: ['run'], args: ['x'], direct: true, buildpackId: 'ex/bp' }],
  defaultProcessType: 'web',
  launcher: { version: '', source: { git: { repository: '', commit: '' } } },
});

function app(layers: string[], rebasable?: string): ImageInfo {
  const labels: Record<string, string> = { 'io.buildpacks.build.metadata': build };
  if (rebasable !== undefined) labels['io.buildpacks.rebasable'] = rebasable;
  return { id: d('0'), repoTags: [], repoDigests: [], os: 'linux', architecture: 'amd64', layers, size: 0, created: 'c', config: { env: [], user: '', workingDir: '', entrypoint: null, cmd: null, labels } };
}

describe('inspect summary', () => {
  it('gives each layer its role; unrecorded layers above the top layer are extension layers', () => {
    const s = summariseAppImage('img', app([d('1'), d('2'), d('e'), d('b'), d('s'), d('a'), d('l'), d('c'), d('p')], 'false'), md);
    expect(s.layers.map((l) => l.role)).toEqual(['run-image', 'run-image', 'extension', 'buildpack', 'sbom', 'app', 'launcher', 'config', 'process-types']);
    expect(s.layers[3]?.owner).toBe('ex/bp:tools');
    expect(s.runImage.extended).toBe(true);
    expect(s.rebasable).toBe(false);
    expect(s.extensions).toEqual([{ id: 'ex/ext', version: '0.1' }]);
    expect(s.buildpacks).toEqual([{ id: 'ex/bp', version: '1', homepage: 'https://h', layers: ['tools'] }]);
    expect(s.processes).toEqual([{ type: 'web', command: ['run'], args: ['x'], default: true, buildpackId: 'ex/bp' }]);
    expect(s.sbom).toEqual({ present: true, diffId: d('s') });
    expect(formatAppImageSummary(s)).toContain('web (default): run x');
  });

  it('a plain image: not extended, rebasable when the label is unset, no SBOM', () => {
    const s = summariseAppImage('img', app([d('1'), d('2'), d('b'), d('a'), d('l'), d('c'), d('p')]), { ...md, sbom: undefined } as unknown as LifecycleMetadata);
    expect(s.runImage.extended).toBe(false);
    expect(s.rebasable).toBe(true);
    expect(s.sbom).toEqual({ present: false });
    expect(formatAppImageSummary(s)).toContain('SBOM: no');
  });
});
