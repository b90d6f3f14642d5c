import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { unpackPackage, unpackPackageModules } from '../../../src/builder/package-source.js';
import { sha256Hex } from '../../../src/image/digest.js';
import { makeTar } from '../../../src/image/tar-files.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function moduleLayer(id: string, version: string): Promise<Buffer> {
  const base = `cnb/buildpacks/${id.replace('/', '_')}/${version}`;
  return makeTar([
    { path: 'cnb', type: 'directory' },
    { path: `${base}/buildpack.toml`, content: `api = "0.10"\n[buildpack]\nid = "${id}"\nversion = "${version}"\n` },
    { path: `${base}/bin/detect`, content: '#!/bin/sh\n', mode: 0o755 },
  ]);
}

async function into(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kiln-pkg-unit-'));
  dirs.push(d);
  return d;
}

describe('unpackPackage', () => {
  it('reads an OCI layout with a gzip layer and a JSON config blob (pack-style .cnb)', async () => {
    const layer = gzipSync(await moduleLayer('ex/bp', '1.0.0'));
    const config = Buffer.from('{"config":{}}');
    const archive = await makeTar([
      { path: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
      { path: `blobs/sha256/${sha256Hex(config)}`, content: config },
      { path: `blobs/sha256/${sha256Hex(layer)}`, content: layer },
    ]);
    const dir = await unpackPackage(Readable.from([archive]), 'buildpack', { id: '', version: '', uri: 'x.cnb' }, await into());
    expect(dir.endsWith('cnb/buildpacks/ex_bp/1.0.0')).toBe(true);
    expect(await readFile(join(dir, 'buildpack.toml'), 'utf8')).toContain('id = "ex/bp"');
    expect((await stat(join(dir, 'bin/detect'))).mode & 0o111).not.toBe(0);
  });

  it('reads a docker-save archive with several modules and picks the entry\'s id; ambiguity is an error', async () => {
    const archive = await makeTar([
      { path: 'a/layer.tar', content: await moduleLayer('ex/a', '1') },
      { path: 'b/layer.tar', content: await moduleLayer('ex/b', '2') },
      { path: 'manifest.json', content: '[]' },
    ]);
    const dir = await unpackPackage(Readable.from([archive]), 'buildpack', { id: 'ex/b', version: '', uri: 'img' }, await into());
    expect(dir.endsWith('cnb/buildpacks/ex_b/2')).toBe(true);
    await expect(unpackPackage(Readable.from([archive]), 'buildpack', { id: '', version: '', uri: 'img' }, await into())).rejects.toThrow(/ex_a@1, ex_b@2/);
    await expect(unpackPackage(Readable.from([archive]), 'extension', { id: '', version: '', uri: 'img' }, await into())).rejects.toThrow(/no cnb\/extensions/);
  });

  it('gives every module of a package; the main one is named by the config\'s buildpackage label', async () => {
    const config = Buffer.from(JSON.stringify({ config: { Labels: { 'io.buildpacks.buildpackage.metadata': JSON.stringify({ id: 'ex/b', version: '2' }) } } }));
    const archive = await makeTar([
      { path: 'a/layer.tar', content: await moduleLayer('ex/a', '1') },
      { path: 'b/layer.tar', content: await moduleLayer('ex/b', '2') },
      { path: `${sha256Hex(config)}.json`, content: config },
      { path: 'manifest.json', content: '[]' },
    ]);
    const r = await unpackPackageModules(Readable.from([archive]), 'buildpack', { id: '', version: '' }, await into());
    expect(r.modules.map((m) => `${m.id}@${m.version}`)).toEqual(['ex_a@1', 'ex_b@2']);
    expect(r.main?.id).toBe('ex_b');
    await expect(unpackPackageModules(Readable.from([archive]), 'buildpack', { id: 'ex/c', version: '' }, await into())).rejects.toThrow(/holds ex_a@1, ex_b@2, not ex\/c/);
  });
});
