import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRequestOf, parseEnvEntries, parseVolume } from '../../../src/cli/commands/build.js';
import { KilnError } from '../../../src/errors.js';

describe('kiln build flags', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('parses --env K=V and takes a bare K from the environment', () => {
    expect(parseEnvEntries(['A=1', 'B=x=y', 'C', 'MISSING'], { C: 'from-env' })).toEqual({ A: '1', B: 'x=y', C: 'from-env' });
    expect(() => parseEnvEntries(['=x'])).toThrow(KilnError);
  });

  it('parses --volume into bind or named mounts', () => {
    expect(parseVolume('/host/dir:/data:ro')).toEqual({ type: 'bind', source: '/host/dir', target: '/data', readOnly: true });
    expect(parseVolume('cache:/cache:rw')).toEqual({ type: 'volume', source: 'cache', target: '/cache', readOnly: false });
    // Read-only unless :rw, as pack (README "kiln build flags"; this changed the earlier read-write default).
    expect(parseVolume('cache:/cache')).toEqual({ type: 'volume', source: 'cache', target: '/cache', readOnly: true });
    for (const bad of ['nodest', 'a:relative', 'a:/b:xx', 'a:/b:ro:extra']) expect(() => parseVolume(bad)).toThrow(KilnError);
  });

  it('--env wins over --env-file; optional flags only when given', async () => {
    const d = await mkdtemp(join(tmpdir(), 'kiln-envfile-'));
    dirs.push(d);
    await writeFile(join(d, 'env'), '# comment\nA=file\n\nB=file\n');
    const req = buildRequestOf('app', { builder: 'b', path: '.', env: ['B=flag'], envFile: join(d, 'env'), volume: [], network: 'host' });
    expect(req).toEqual({ image: 'app', builder: 'b', path: '.', env: { A: 'file', B: 'flag' }, volumes: [], network: 'host' });
  });
});

describe('app image name', () => {
  it('gets :latest when it has no tag; registry ports are not tags', async () => {
    const { withDefaultTag } = await import('../../../src/image/image-ref.js');
    expect(withDefaultTag('app')).toBe('app:latest');
    expect(withDefaultTag('acme/app:1')).toBe('acme/app:1');
    expect(withDefaultTag('localhost:5000/acme/app')).toBe('localhost:5000/acme/app:latest');
    expect(() => withDefaultTag('app@sha256:abc')).toThrow(KilnError);
  });
});

describe('project metadata label', () => {
  it('records the declared project version as pack does, else nothing', async () => {
    const { projectMetadataOf } = await import('../../../src/app/build-phases.js');
    const base = { schemaVersion: '0.2', id: '', name: '', version: '', include: [], exclude: [], buildEnv: [], group: [], metadata: {} };
    expect(projectMetadataOf(undefined)).toEqual({});
    expect(projectMetadataOf(base)).toEqual({});
    expect(projectMetadataOf({ ...base, version: '1.2.3' })).toEqual({ source: { type: 'project', version: { declared: '1.2.3' } } });
  });
});
