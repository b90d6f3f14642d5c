import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModuleSource, readModuleSources, treeDigest } from '../../../src/builder/module-source.js';
import { KilnError } from '../../../src/errors.js';

let tmp = '';
const opts = (): { configDir: string; configFile: string; tmpRoot: string } => ({ configDir: tmp, configFile: join(tmp, 'builder.toml'), tmpRoot: tmp });

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-module-source-'));
  const bp = join(tmp, 'src', 'bp');
  await mkdir(join(bp, 'bin'), { recursive: true });
  await writeFile(join(bp, 'buildpack.toml'), 'api = "0.10"\n[buildpack]\nid = "a"\nversion = "1"\n');
  await writeFile(join(bp, 'bin', 'detect'), '#!/bin/sh\n');
  await chmod(join(bp, 'bin', 'detect'), 0o755);
  // npm-pack style: one top directory inside the tarball.
  execFileSync('tar', ['-czf', join(tmp, 'bp.tgz'), '-C', join(tmp, 'src'), 'bp']);
  execFileSync('tar', ['-cf', join(tmp, 'bp.tar'), '-C', bp, '.']);
});
afterAll(async () => rm(tmp, { recursive: true, force: true }));

describe('readModuleSource', () => {
  it('reads a directory, a .tgz and a .tar to the same content digest', async () => {
    const dir = await readModuleSource({ id: '', version: '', uri: 'src/bp' }, 'buildpack', 0, opts());
    const tgz = await readModuleSource({ id: '', version: '', uri: 'bp.tgz' }, 'buildpack', 0, opts());
    const tar = await readModuleSource({ id: '', version: '', uri: `file://${join(tmp, 'bp.tar')}` }, 'buildpack', 0, opts());
    for (const s of [dir, tgz, tar]) {
      expect(s).toMatchObject({ hasDetect: true, hasBuild: false, hasGenerate: false, hasGenerateDir: false });
      expect(s.descriptorText).toContain('id = "a"');
      expect(s.contentDigest).toBe(dir.contentDigest);
    }
  });

  it('changes the digest when an exec bit changes', async () => {
    const before = await treeDigest(join(tmp, 'src', 'bp'));
    await chmod(join(tmp, 'src', 'bp', 'bin', 'detect'), 0o644);
    expect(await treeDigest(join(tmp, 'src', 'bp'))).not.toBe(before);
    await chmod(join(tmp, 'src', 'bp', 'bin', 'detect'), 0o755);
  });

  it('refuses missing paths, registry uris and other files, naming builder.toml', async () => {
    await writeFile(join(tmp, 'x.zip'), '');
    for (const [uri, cause] of [['nope', 'does not exist'], ['https://reg/bp.tgz', 'not a local path'], ['docker://reg/bp:1', 'no container engine'], ['x.zip', 'neither a directory nor']]) {
      const e: unknown = await readModuleSource({ id: 'a', version: '', uri: uri ?? '' }, 'buildpack', 0, opts()).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(KilnError);
      expect((e as KilnError).causeText).toContain(cause);
      expect((e as KilnError).hint).toContain('builder.toml');
    }
  });

  it('names the entry\'s key path in the user\'s file, or the flag; an archive\'s descriptor is shown inside the uri', async () => {
    const inToml: unknown = await readModuleSources({ id: '', version: '', uri: 'gone.tgz' }, 'buildpack', 0, { ...opts(), configFile: join(tmp, 'package.toml'), keyPath: 'dependencies[3]' }).catch((e: unknown) => e);
    expect((inToml as KilnError).action).toBe(`read buildpack gone.tgz (dependencies[3] in ${join(tmp, 'package.toml')})`);
    const flag: unknown = await readModuleSources({ id: '', version: '', uri: 'gone' }, 'buildpack', 0, { ...opts(), keyPath: '--buildpack' }).catch((e: unknown) => e);
    expect((flag as KilnError).hint).toMatch(/^check --buildpack: /);
    const [tgz] = await readModuleSources({ id: '', version: '', uri: 'bp.tgz' }, 'buildpack', 0, opts());
    expect(tgz?.descriptorFile).toBe('bp.tgz!/bp/buildpack.toml');
    expect(tgz?.main).toBe(true);
  });
});
