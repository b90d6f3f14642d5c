import { describe, expect, it } from 'vitest';
import {
  decodeBuildMetadata,
  decodeLifecycleMetadata,
  decodeProjectMetadata,
  encodeBuildMetadata,
  encodeLifecycleMetadata,
  encodeProjectMetadata,
  InvalidLabelError,
  type BuildMetadata,
  type LifecycleMetadata,
} from '../../../src/image/lifecycle-labels.js';

const meta: LifecycleMetadata = {
  app: [{ sha: 'sha256:a' }],
  config: { sha: 'sha256:c' },
  launcher: { sha: 'sha256:l' },
  processTypes: { sha: '' },
  buildpacks: [{ key: 'x/y', version: '1', layers: { b: { sha: 'sha256:b', data: { n: [1] }, build: false, launch: true, cache: true } } }],
  runImage: { topLayer: 'sha256:t', reference: 'sha256:r', image: 'run', mirrors: [] },
  stack: { runImage: { image: 'run', mirrors: [] } },
};

describe('io.buildpacks.lifecycle.metadata', () => {
  it('round-trips and uses the lifecycle key names and omissions', () => {
    const text = encodeLifecycleMetadata(meta);
    expect(text).toBe(
      '{"app":[{"sha":"sha256:a"}],"config":{"sha":"sha256:c"},"launcher":{"sha":"sha256:l"},"process-types":{"sha":""},' +
        '"buildpacks":[{"key":"x/y","version":"1","layers":{"b":{"sha":"sha256:b","data":{"n":[1]},"build":false,"launch":true,"cache":true}}}],' +
        '"runImage":{"topLayer":"sha256:t","reference":"sha256:r","image":"run"},"stack":{"runImage":{"image":"run"}}}',
    );
    expect(decodeLifecycleMetadata(text)).toEqual(meta);
  });

  it('decodes a label from an older lifecycle without process-types, sbom or store', () => {
    const m = decodeLifecycleMetadata('{"app":[{"sha":"sha256:a"}],"config":{"sha":"sha256:c"},"launcher":{"sha":"sha256:l"},"buildpacks":[{"key":"k","version":"v","layers":{}}],"runImage":{"topLayer":"t","reference":"r"}}');
    expect(m.processTypes).toEqual({ sha: '' });
    expect(m.sbom).toBeUndefined();
    expect(m.buildpacks[0]?.store).toBeUndefined();
    expect(m.runImage).toEqual({ topLayer: 't', reference: 'r', image: '', mirrors: [] });
  });

  it('rejects non-JSON and wrongly typed values with the label name', () => {
    expect(() => decodeLifecycleMetadata('nope')).toThrow(InvalidLabelError);
    expect(() => decodeLifecycleMetadata('[]')).toThrow(/must be a JSON object/);
    expect(() => decodeLifecycleMetadata('{"buildpacks":[{"key":1}]}')).toThrow(/io.buildpacks.lifecycle.metadata is invalid: buildpacks\[0\].key must be a string/);
  });
});

describe('io.buildpacks.build.metadata', () => {
  const bm: BuildMetadata = {
    buildpacks: [{ id: 'a', version: '1', homepage: 'h', api: '0.12' }],
    extensions: [],
    processes: [{ type: 'web', command: ['x', 'y'], args: [], direct: true, buildpackId: 'a', workingDir: '/w', execEnv: ['production'] }],
    defaultProcessType: 'web',
    launcher: { version: 'v', source: { git: { repository: 'r', commit: 'c' } } },
  };
  it('round-trips; omits empty extensions; uses buildpackID and kebab keys', () => {
    const text = encodeBuildMetadata(bm);
    const raw = JSON.parse(text) as Record<string, unknown>;
    expect(raw.extensions).toBeUndefined();
    expect(raw.processes).toEqual([{ type: 'web', command: ['x', 'y'], args: [], direct: true, buildpackID: 'a', 'working-dir': '/w', 'exec-env': ['production'] }]);
    expect(decodeBuildMetadata(text)).toEqual(bm);
  });
  it('accepts a string command (Platform < 0.10)', () => {
    const m = decodeBuildMetadata('{"processes":[{"type":"web","command":"node app.js","direct":false}]}');
    expect(m.processes[0]?.command).toEqual(['node app.js']);
    expect(m.defaultProcessType).toBeUndefined();
  });
});

describe('io.buildpacks.project.metadata', () => {
  it('is the project-metadata table as JSON, {} when absent', () => {
    expect(encodeProjectMetadata({})).toBe('{}');
    expect(decodeProjectMetadata('{"source":{"type":"git"}}')).toEqual({ source: { type: 'git' } });
  });
});
