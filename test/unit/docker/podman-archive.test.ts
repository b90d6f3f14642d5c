import { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { completeImageArchive, dockerLayerPath, dockerSaveLayout, type LayerSource } from '../../../src/docker/podman-archive.js';
import { mountsBelow, placeEntry, putAcrossMounts } from '../../../src/docker/podman-put.js';
import { makeTar, readTar } from '../../../src/image/tar-files.js';

const hexA = 'a'.repeat(64);
const hexB = 'b'.repeat(64);
const hexC = 'c'.repeat(64);

async function collect(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A kiln-style archive on top of a base of two layers the daemon has (A, B): only layer C's file. */
async function partialArchive(): Promise<Buffer> {
  const config = JSON.stringify({ rootfs: { type: 'layers', diff_ids: [`sha256:${hexA}`, `sha256:${hexB}`, `sha256:${hexC}`] } });
  const manifest = JSON.stringify([{ Config: 'cfg.json', RepoTags: ['app:1'], Layers: [`${hexA}/layer.tar`, `${hexB}/layer.tar`, `${hexC}/layer.tar`] }]);
  return makeTar([
    { path: `${hexC}/layer.tar`, content: 'layer C' },
    { path: 'cfg.json', content: config },
    { path: 'manifest.json', content: manifest },
  ]);
}

describe('completeImageArchive', () => {
  it('appends the layer files the manifest names but the archive lacks, from the source, before the manifest', async () => {
    const asked: string[][] = [];
    const source: LayerSource = async (diffIds, each) => {
      asked.push(diffIds);
      for (const d of diffIds) {
        const body = Buffer.from(`layer ${d.slice(-1).toUpperCase()}`);
        await each(d, { size: body.length, content: Readable.from([body]) });
      }
    };
    const entries = await readTar(await collect(completeImageArchive(await partialArchive(), source)));
    expect(asked).toEqual([[`sha256:${hexA}`, `sha256:${hexB}`]]);
    expect(entries.map((e) => [e.path, e.content.toString()])).toEqual([
      [`${hexC}/layer.tar`, 'layer C'],
      ['cfg.json', expect.stringContaining('diff_ids')],
      [`${hexA}/layer.tar`, 'layer A'],
      [`${hexB}/layer.tar`, 'layer B'],
      ['manifest.json', expect.stringContaining('RepoTags')],
    ]);
  });

  it('fails the stream when no image holds a missing layer', async () => {
    const source: LayerSource = async () => undefined;
    await expect(collect(completeImageArchive(await partialArchive(), source))).rejects.toThrow(`the daemon has no image holding layer sha256:${hexA}, sha256:${hexB}`);
  });

  it('passes a complete archive through without asking the source', async () => {
    const source: LayerSource = async () => {
      throw new Error('not to be asked');
    };
    const config = JSON.stringify({ rootfs: { diff_ids: [`sha256:${hexA}`] } });
    const tar = await makeTar([
      { path: `${hexA}/layer.tar`, content: 'layer A' },
      { path: 'cfg.json', content: config },
      { path: 'manifest.json', content: JSON.stringify([{ Config: 'cfg.json', Layers: [`${hexA}/layer.tar`] }]) },
    ]);
    expect((await readTar(await collect(completeImageArchive(tar, source)))).map((e) => e.path)).toEqual([`${hexA}/layer.tar`, 'cfg.json', 'manifest.json']);
  });
});

describe('dockerSaveLayout', () => {
  it("rewrites podman's save (<hex>.tar layers, legacy dirs) into docker save's layout", async () => {
    const saved = await makeTar([
      { path: `${hexA}.tar`, content: 'layer A' },
      { path: 'cfg.json', content: '{}' },
      { path: `${hexB}/layer.tar`, type: 'symlink', linkname: `../${hexA}.tar` },
      { path: `${hexB}/json`, content: '{}' },
      { path: `${hexB}/VERSION`, content: '1.0' },
      { path: 'manifest.json', content: JSON.stringify([{ Config: 'cfg.json', RepoTags: ['docker.io/x/y:1'], Layers: [`${hexA}.tar`] }]) },
      { path: 'repositories', content: '{}' },
    ]);
    const entries = await readTar(await collect(dockerSaveLayout(Readable.from([saved]))));
    expect(entries.map((e) => [e.path, e.type])).toEqual([
      [`${hexA}`, 'directory'],
      [`${hexA}/layer.tar`, 'file'],
      ['cfg.json', 'file'],
      ['manifest.json', 'file'],
    ]);
    expect(JSON.parse(entries[3]?.content.toString() ?? '')).toEqual([{ Config: 'cfg.json', RepoTags: ['docker.io/x/y:1'], Layers: [`${hexA}/layer.tar`] }]);
  });

  it('names layer files the Docker way and leaves other names alone', () => {
    expect(dockerLayerPath(`./${hexA}.tar`)).toBe(`${hexA}/layer.tar`);
    expect(dockerLayerPath(`${hexA}/layer.tar`)).toBe(`${hexA}/layer.tar`);
    expect(dockerLayerPath('cfg.json')).toBe('cfg.json');
  });
});

describe('putAcrossMounts', () => {
  const mounts = ['/workspace', '/kiln-volumes/platform', '/layers'];

  it('finds the mounts a put spans and where each entry goes', () => {
    expect(mountsBelow('/', mounts)).toEqual(mounts);
    expect(mountsBelow('/workspace', mounts)).toEqual([]);
    expect(mountsBelow('/kiln-volumes', mounts)).toEqual(['/kiln-volumes/platform']);
    expect(placeEntry('/', 'workspace/app/x.txt', mounts)).toEqual({ mount: '/workspace', name: 'app/x.txt' });
    expect(placeEntry('/', 'workspace/', mounts)).toEqual({ mount: '/workspace', name: '.' });
    expect(placeEntry('/', 'kiln-volumes/platform/env/', mounts)).toEqual({ mount: '/kiln-volumes/platform', name: 'env/' });
    expect(placeEntry('/', 'tmp/x', mounts)).toEqual({ mount: '', name: 'tmp/x' });
  });

  it('sends one request per run of entries with the same volume, names relative to its mount point', async () => {
    // makeTar writes no hard links: this tar is packed by hand.
    const pack = tarStream.pack();
    pack.entry({ name: 'workspace/app.py', uid: 1000, gid: 1000 }, 'print(1)');
    pack.entry({ name: 'workspace/lib', type: 'directory', uid: 1000, gid: 1000 });
    pack.entry({ name: 'workspace/lib/a', type: 'link', linkname: 'workspace/app.py' });
    pack.entry({ name: 'kiln-volumes/platform/env/X' }, 'x');
    pack.finalize();
    const tar = await collect(pack as unknown as Readable);
    const requests: Array<{ target: string; entries: Array<[string, string, number]> }> = [];
    await putAcrossMounts(tar, '/', mounts, async (target, body) => {
      const entries = await readTar(body);
      requests.push({ target, entries: entries.map((e) => [e.path, e.type === 'link' ? `-> ${e.linkname ?? ''}` : e.content.toString(), e.uid]) });
    });
    expect(requests).toEqual([
      {
        target: '/workspace',
        entries: [
          ['app.py', 'print(1)', 1000],
          ['lib', '', 1000],
          ['lib/a', '-> app.py', 0],
        ],
      },
      { target: '/kiln-volumes/platform', entries: [['env/X', 'x', 0]] },
    ]);
  });

  it('fails when a request fails', async () => {
    const tar = await makeTar([{ path: 'workspace/a', content: 'a' }]);
    await expect(
      putAcrossMounts(tar, '/', mounts, async (_t, body) => {
        body.resume();
        throw new Error('daemon said no');
      }),
    ).rejects.toThrow('daemon said no');
  });
});
