/**
 * Tar entries that try to leave their root (issue 8, docs/reliability.md "Hostile modules"): `../` names
 * and hard links out are rejected when reading a tar (generated output, volume files) and when
 * re-heading a container archive into a layer; absolute names are taken relative to the root; symlinks
 * are kept as links with their target (never followed); app-dir links climbing out are refused.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exposesDockerSocket, parseTimeout, parseVolume } from '../../../src/cli/commands/build.js';
import { ExitCode } from '../../../src/errors.js';
import { normaliseTarStream, type LayerEntry } from '../../../src/image/layer-tar.js';
import { makeTar, readTar, safeEntryPath, UnsafeTarEntryError } from '../../../src/image/tar-files.js';
import { appSourceTar } from '../../../src/lifecycle/app-source.js';

async function layerEntries(tar: Buffer, prefix = '/layers/bp/layer'): Promise<LayerEntry[]> {
  const out: LayerEntry[] = [];
  for await (const e of normaliseTarStream(Readable.from([tar]), { prefix, uid: 1000, gid: 1000 })) {
    const c = e.content;
    if (c !== undefined && !Buffer.isBuffer(c)) for await (const chunk of typeof c === 'function' ? c() : c) void chunk;
    out.push(e);
  }
  return out;
}

describe('safeEntryPath', () => {
  it.each([
    ['../etc/passwd', undefined],
    ['a/../../etc/passwd', undefined],
    ['..', undefined],
    ['/etc/passwd', 'etc/passwd'],
    ['./a/./b/', 'a/b'],
    ['a/b/../c', 'a/c'],
  ])('%s -> %s', (name, want) => {
    expect(safeEntryPath(name)).toBe(want);
  });
});

describe('readTar (generated output, files read from volumes)', () => {
  it('rejects an entry climbing out with ../', async () => {
    const tar = await makeTar([{ path: 'out/ok', content: 'x' }, { path: 'out/../../evil', content: 'y' }]);
    await expect(readTar(tar)).rejects.toBeInstanceOf(UnsafeTarEntryError);
  });

  it('takes an absolute name relative to the root', async () => {
    const entries = await readTar(await makeTar([{ path: '/etc/passwd', content: 'root:x:0:0' }]));
    expect(entries.map((e) => e.path)).toEqual(['etc/passwd']);
  });

  it('keeps a symlink pointing out as a link with no content', async () => {
    const [e] = await readTar(await makeTar([{ path: 'build.Dockerfile', type: 'symlink', linkname: '/etc/passwd' }]));
    expect(e).toMatchObject({ path: 'build.Dockerfile', type: 'symlink', linkname: '/etc/passwd' });
    expect(e?.content.length).toBe(0);
  });
});

describe('normaliseTarStream (layers from container archives)', () => {
  it('rejects ../ entries', async () => {
    const tar = await makeTar([{ path: 'layer', type: 'directory' }, { path: 'layer/../../etc/evil', content: 'x' }]);
    await expect(layerEntries(tar)).rejects.toBeInstanceOf(UnsafeTarEntryError);
  });

  it('rejects entries outside the archive root element', async () => {
    const tar = await makeTar([{ path: 'layer', type: 'directory' }, { path: 'other/file', content: 'x' }]);
    await expect(layerEntries(tar)).rejects.toBeInstanceOf(UnsafeTarEntryError);
  });

  it('rejects a hard link to a file outside the layer', async () => {
    // makeTar writes no hard links: build this archive with tar-stream directly.
    const { pack } = await import('tar-stream');
    const p = pack();
    p.entry({ name: 'layer', type: 'directory' });
    p.entry({ name: 'layer/hl', type: 'link', linkname: '../etc/shadow' });
    p.finalize();
    const chunks: Buffer[] = [];
    for await (const c of p as unknown as AsyncIterable<Buffer>) chunks.push(c);
    await expect(layerEntries(Buffer.concat(chunks))).rejects.toThrow();
  });

  it('keeps symlinks pointing out as links under the prefix', async () => {
    const tar = await makeTar([{ path: 'layer', type: 'directory' }, { path: 'layer/passwd', type: 'symlink', linkname: '/etc/passwd' }]);
    const entries = await layerEntries(tar);
    expect(entries.find((e) => e.type === 'symlink')).toMatchObject({ path: 'layers/bp/layer/passwd', linkname: '/etc/passwd' });
  });
});

describe('app source symlinks', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-appsrc-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps absolute and inside links as links, copying no host content', async () => {
    const app = join(dir, 'ok');
    await mkdir(join(app, 'sub'), { recursive: true });
    await writeFile(join(app, 'a.txt'), 'a');
    await symlink('/etc/passwd', join(app, 'abs'));
    await symlink('../a.txt', join(app, 'sub', 'up-inside'));
    const entries = await readTar(await appSourceTar(app, { uid: 1000, gid: 1000 }));
    expect(entries.find((e) => e.path === 'abs')).toMatchObject({ type: 'symlink', linkname: '/etc/passwd' });
    expect(entries.find((e) => e.path === 'sub/up-inside')).toMatchObject({ type: 'symlink', linkname: '../a.txt' });
    for (const e of entries) expect(e.content.toString()).not.toContain('root:');
  });

  it('refuses a relative link climbing out of the app dir (exit 2, names the link)', async () => {
    const app = join(dir, 'bad');
    await mkdir(app, { recursive: true });
    await symlink('../../etc/passwd', join(app, 'escape'));
    const err = await appSourceTar(app, { uid: 1000, gid: 1000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: ExitCode.config });
    expect((err as Error).message).toContain(`${join(app, 'escape')} -> ../../etc/passwd points outside the app directory`);
  });
});

describe('build flags that guard the host', () => {
  it.each([
    ['/var/run/docker.sock', true],
    ['/run/docker.sock', true],
    ['/var/run', true],
    ['/var/run/', true],
    ['/', true],
    ['/var', true],
    ['/var/run/other', false],
    ['/home/me/data', false],
  ])('exposesDockerSocket(%s) = %s', (src, want) => {
    expect(exposesDockerSocket(src, undefined)).toBe(want);
  });

  it('also guards the DOCKER_HOST unix socket', () => {
    expect(exposesDockerSocket('/srv/docker', 'unix:///srv/docker/d.sock')).toBe(true);
    expect(exposesDockerSocket('/srv/other', 'unix:///srv/docker/d.sock')).toBe(false);
  });

  it('parseVolume refuses the socket, keeps named volumes', () => {
    expect(() => parseVolume('/var/run/docker.sock:/var/run/docker.sock')).toThrow(/docker socket/);
    expect(parseVolume('cache:/cache:ro')).toEqual({ type: 'volume', source: 'cache', target: '/cache', readOnly: true });
  });

  it('parseTimeout takes positive whole seconds only', () => {
    expect(parseTimeout('30')).toBe(30);
    for (const bad of ['0', '-1', '1.5', 'soon', '']) expect(() => parseTimeout(bad)).toThrow(/--timeout/);
  });
});
