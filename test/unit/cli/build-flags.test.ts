import { describe, expect, it } from 'vitest';
import { packFlagsRequest, parseCreationTime, parseId } from '../../../src/cli/commands/build-flags.js';
import { reportToml } from '../../../src/app/build-outputs.js';
import { reuseOffReason } from '../../../src/app/input-key.js';
import { KilnError } from '../../../src/errors.js';

describe('pack build flags', () => {
  it('--creation-time takes Unix seconds or now', () => {
    expect(parseCreationTime('1641013200')).toBe('2022-01-01T05:00:00Z');
    expect(parseCreationTime('now', () => new Date('2030-02-03T04:05:06.789Z'))).toBe('2030-02-03T04:05:06Z');
    for (const bad of ['yesterday', '-1', '1.5', '']) expect(() => parseCreationTime(bad)).toThrow(/--creation-time/);
  });

  it('--uid / --gid must be positive numbers', () => {
    expect(parseId('--uid', '1234')).toBe(1234);
    for (const bad of ['0', '-5', 'root', '']) expect(() => parseId('--uid', bad)).toThrow(KilnError);
  });

  it('puts tags (without the image itself, once each), modules and the user into the request', () => {
    const r = packFlagsRequest('app', { tag: ['app:latest', 'reg.example/app:1', 'reg.example/app:1'], buildpack: ['a@1', './b'], extension: ['e@1'], uid: '7', gid: '8', creationTime: '0' });
    expect(r.tags).toEqual(['reg.example/app:1']);
    expect(r.modules).toEqual({ buildpacks: ['a@1', './b'], extensions: ['e@1'] });
    expect([r.uid, r.gid, r.creationTime]).toEqual([7, 8, '1970-01-01T00:00:00Z']);
    expect(() => packFlagsRequest('app', { buildpack: [' '] })).toThrow(/--buildpack/);
    expect(() => packFlagsRequest('app', { tag: ['Not A Ref'] })).toThrow(/--tag/);
  });

  it('--sbom-output-dir turns reuse off (the build SBOMs exist only while it runs)', () => {
    expect(reuseOffReason({ image: 'a', builder: 'b', path: '.', env: {}, volumes: [], sbomOutputDir: '/tmp/x' })).toBe('--sbom-output-dir');
  });

  it('report.toml names every tag and the image id (platform.md, "report.toml (TOML)")', () => {
    const text = reportToml({ tags: ['a:latest', 'b:1'], imageId: 'sha256:abc' });
    expect(text).toContain('[image]');
    expect(text).toContain('tags = [ "a:latest", "b:1" ]');
    expect(text).toContain('image-id = "sha256:abc"');
  });
});

describe('readProject', () => {
  it('passes the legacy-schema warning on', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readProject } = await import('../../../src/app/build-app.js');
    const dir = await mkdtemp(join(tmpdir(), 'kiln-project-'));
    try {
      await writeFile(join(dir, 'project.toml'), '[project]\nid = "old"\n[[build.buildpacks]]\nid = "a"\n');
      const warnings: string[] = [];
      const p = await readProject({ path: dir }, (m) => warnings.push(m));
      expect(p?.group.map((g) => g.id)).toEqual(['a']);
      expect(warnings).toEqual([expect.stringContaining('legacy project descriptor 0.1')]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('--env-file (repeatable)', () => {
  it('applies the files in order, then --env', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { buildRequestOf } = await import('../../../src/cli/commands/build.js');
    const dir = await mkdtemp(join(tmpdir(), 'kiln-envfile-'));
    try {
      await writeFile(join(dir, 'a.env'), 'A=1\nB=from-a\n');
      await writeFile(join(dir, 'b.env'), 'B=from-b\nC=from-b\n');
      const req = buildRequestOf('app', { builder: 'b', path: '.', env: ['C=from-env'], envFile: [join(dir, 'a.env'), join(dir, 'b.env')], volume: [] });
      expect(req.env).toEqual({ A: '1', B: 'from-b', C: 'from-env' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('--workspace', () => {
  it('takes an absolute path (a relative one below /, as pack) that overlaps no directory the build needs', async () => {
    const { parseWorkspace } = await import('../../../src/cli/commands/build-flags.js');
    expect(parseWorkspace('/srv/app/')).toBe('/srv/app');
    expect(parseWorkspace('app')).toBe('/app');
    for (const bad of ['/', '/layers', '/layers/x', '/cnb', '/a b', '']) expect(() => parseWorkspace(bad)).toThrow(/--workspace/);
  });

  it('keys the cached app fingerprint by a non-default workspace, so its layer is never taken for another', async () => {
    const { keyedByWorkspace } = await import('../../../src/app/workspace.js');
    const fps = { byPath: new Map([['app', 'f1'], ['bp/l', 'f2']]) };
    expect(keyedByWorkspace(fps, undefined)).toBe(fps);
    expect(keyedByWorkspace(fps, '/workspace')).toBe(fps);
    expect([...keyedByWorkspace(fps, '/srv').byPath]).toEqual([['app', 'f1@/srv'], ['bp/l', 'f2']]);
  });
});
