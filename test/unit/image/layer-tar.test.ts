import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, link, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { diffIdOfFile } from '../../../src/image/digest.js';
import { layerFromDir, layerFromFiles, normaliseTarStream, writeLayerTar, type LayerEntry } from '../../../src/image/layer-tar.js';
import { REPRODUCIBLE_MTIME, UnsafeTarEntryError } from '../../../src/image/tar-files.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kiln-layer-tar-'));
  dirs.push(d);
  return d;
}

interface Seen {
  header: tarStream.Header;
  content: Buffer;
}
async function entriesOf(file: string): Promise<Seen[]> {
  const extract = tarStream.extract();
  const out: Seen[] = [];
  Readable.from([await readFile(file)]).pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry as unknown as AsyncIterable<Buffer>) chunks.push(c);
    out.push({ header: entry.header, content: Buffer.concat(chunks) });
  }
  return out;
}

/** A source tar shaped like a container's getArchive of /layers/example_node/node. */
async function sourceTar(entries: Array<Partial<tarStream.Header> & { name: string; body?: string }>): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const { body, ...h } of entries) {
    await new Promise<void>((resolve, reject) => {
      const header = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: new Date(), ...h };
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (body !== undefined) pack.entry(header, Buffer.from(body), cb);
      else pack.entry(header, cb).end(Buffer.alloc(0));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

const CONTAINER_TAR = [
  { name: 'node/', type: 'directory' as const, mode: 0o755, uid: 1000, gid: 1000 },
  { name: 'node/bin/', type: 'directory' as const, mode: 0o750 },
  { name: 'node/bin/node', type: 'file' as const, mode: 0o755, body: '#!/bin/sh\necho node\n' },
  { name: 'node/dev0', type: 'character-device' as const, mode: 0o600 },
  { name: 'node/hard', type: 'link' as const, linkname: 'node/bin/node', mode: 0o755 },
  { name: 'node/latest', type: 'symlink' as const, linkname: '/layers/example_node/node/bin', mode: 0o777 },
  { name: 'node/pipe', type: 'fifo' as const, mode: 0o644 },
];

const PLACEMENT = {
  prefix: '/layers/example_node/node',
  uid: 1234,
  gid: 5678,
  parents: [
    { path: '/layers', uid: 0, gid: 0, mode: 0o755 },
    { path: '/layers/example_node', uid: 1234, gid: 5678, mode: 0o755 },
  ],
};

describe('normaliseTarStream + writeLayerTar', () => {
  it('re-headers a container archive into a reproducible layer under the prefix', async () => {
    const dir = await tempDir();
    const dest = join(dir, 'layer.tar');
    const res = await writeLayerTar(normaliseTarStream(Readable.from([await sourceTar(CONTAINER_TAR)]), PLACEMENT), dest);
    expect(res.diffId).toBe(await diffIdOfFile(dest));
    expect(res.size).toBe((await readFile(dest)).length);
    const seen = await entriesOf(dest);
    expect(seen.map((s) => [s.header.name, s.header.type])).toEqual([
      ['layers/', 'directory'],
      ['layers/example_node/', 'directory'],
      ['layers/example_node/node/', 'directory'],
      ['layers/example_node/node/bin/', 'directory'],
      ['layers/example_node/node/bin/node', 'file'],
      ['layers/example_node/node/hard', 'link'],
      ['layers/example_node/node/latest', 'symlink'],
      ['layers/example_node/node/pipe', 'fifo'],
    ]);
    for (const s of seen) {
      expect(s.header.mtime.getTime()).toBe(REPRODUCIBLE_MTIME.getTime());
      expect([s.header.uname, s.header.gname]).toEqual(['', '']);
    }
    const by = new Map(seen.map((s) => [s.header.name, s]));
    expect(by.get('layers/')?.header).toMatchObject({ uid: 0, gid: 0, mode: 0o755 });
    expect(by.get('layers/example_node/node/bin/')?.header).toMatchObject({ uid: 1234, gid: 5678, mode: 0o750 });
    expect(by.get('layers/example_node/node/bin/node')?.content.toString()).toBe('#!/bin/sh\necho node\n');
    expect(by.get('layers/example_node/node/hard')?.header.linkname).toBe('layers/example_node/node/bin/node');
    expect(by.get('layers/example_node/node/latest')?.header.linkname).toBe('/layers/example_node/node/bin');
  });

  it('gives the same bytes for the same content whatever the source mtimes and owner names', async () => {
    const dir = await tempDir();
    const a = await writeLayerTar(normaliseTarStream(Readable.from([await sourceTar(CONTAINER_TAR)]), PLACEMENT), join(dir, 'a.tar'));
    const later = CONTAINER_TAR.map((e) => ({ ...e, mtime: new Date('2030-01-01T00:00:00Z'), uname: 'cnb', gname: 'cnb' }));
    const b = await writeLayerTar(normaliseTarStream(Readable.from([await sourceTar(later)]), PLACEMENT), join(dir, 'b.tar'));
    expect(b.diffId).toBe(a.diffId);
    expect(await readFile(join(dir, 'b.tar'))).toEqual(await readFile(join(dir, 'a.tar')));
  });

  it('accepts tars relative to "." (stripRoot keeps working) and drops excluded subtrees', async () => {
    const dir = await tempDir();
    const src = await sourceTar([
      { name: './', type: 'directory', mode: 0o755 },
      { name: './keep.txt', type: 'file', mode: 0o644, body: 'k' },
      { name: './skip/', type: 'directory', mode: 0o755 },
      { name: './skip/inner.txt', type: 'file', mode: 0o644, body: 'i' },
    ]);
    const dest = join(dir, 'l.tar');
    await writeLayerTar(normaliseTarStream(Readable.from([src]), { prefix: '/workspace', uid: 1, gid: 2, exclude: (p) => p === 'skip' }), dest);
    expect((await entriesOf(dest)).map((s) => s.header.name)).toEqual(['workspace/', 'workspace/keep.txt']);
  });

  it.each([
    ['a parent reference', [{ name: 'node/', type: 'directory' as const }, { name: 'node/../../etc/passwd', type: 'file' as const, body: 'x' }]],
    ['an entry outside the root element', [{ name: 'node/', type: 'directory' as const }, { name: 'other/x', type: 'file' as const, body: 'x' }]],
    ['a hard link leaving the root', [{ name: 'node/', type: 'directory' as const }, { name: 'node/h', type: 'link' as const, linkname: '../etc/shadow' }]],
  ])('rejects %s and removes the partial file', async (_what, entries) => {
    const dir = await tempDir();
    const dest = join(dir, 'bad.tar');
    await expect(writeLayerTar(normaliseTarStream(Readable.from([await sourceTar(entries)]), PLACEMENT), dest)).rejects.toBeInstanceOf(UnsafeTarEntryError);
    expect(existsSync(dest)).toBe(false);
  });

  it('rejects a hard link whose target was excluded', async () => {
    const dir = await tempDir();
    const src = await sourceTar([
      { name: 'node/', type: 'directory' },
      { name: 'node/a', type: 'file', body: 'a' },
      { name: 'node/b', type: 'link', linkname: 'node/a' },
    ]);
    await expect(writeLayerTar(normaliseTarStream(Readable.from([src]), { ...PLACEMENT, exclude: (p) => p === 'a' }), join(dir, 'x.tar'))).rejects.toThrow(/hard link/);
  });
});

describe('writeLayerTar input checks', () => {
  it.each(['/abs/path', '../up', 'a/../../b'])('rejects the entry name %s', async (path) => {
    const dir = await tempDir();
    const entry: LayerEntry = { path, type: 'file', mode: 0o644, uid: 0, gid: 0, content: Buffer.from('x') };
    await expect(writeLayerTar([entry], join(dir, 'x.tar'))).rejects.toBeInstanceOf(UnsafeTarEntryError);
  });

  it('fails on a streamed file whose size is wrong', async () => {
    const dir = await tempDir();
    const entry: LayerEntry = { path: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 10, content: Readable.from([Buffer.from('short')]) };
    await expect(writeLayerTar([entry], join(dir, 'x.tar'))).rejects.toThrow();
  });
});

describe('long and non-ASCII names', () => {
  it('round-trip through PAX headers, reproducibly', async () => {
    const dir = await tempDir();
    const deep = `layers/bp/layer/${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(120)}.txt`;
    const entries: LayerEntry[] = [
      { path: deep, type: 'file', mode: 0o644, uid: 1, gid: 1, content: Buffer.from('deep') },
      { path: 'layers/bp/layer/caf\u00e9-\u65e5\u672c.txt', type: 'file', mode: 0o644, uid: 1, gid: 1, content: Buffer.from('utf8') },
      { path: 'layers/bp/layer/long-link', type: 'symlink', mode: 0o777, uid: 1, gid: 1, linkname: `/${deep}` },
    ];
    const a = await writeLayerTar(entries, join(dir, 'a.tar'));
    const b = await writeLayerTar(entries, join(dir, 'b.tar'));
    expect(b.diffId).toBe(a.diffId);
    const seen = await entriesOf(join(dir, 'a.tar'));
    expect(seen.map((s) => s.header.name)).toEqual(entries.map((e) => e.path));
    expect(seen[2]?.header.linkname).toBe(`/${deep}`);
    expect(seen.every((s) => s.header.mtime.getTime() === REPRODUCIBLE_MTIME.getTime())).toBe(true);
  });
});

describe('layerFromFiles', () => {
  it('writes generated files, dirs and symlinks with root owner and default modes', async () => {
    const dir = await tempDir();
    const files = layerFromFiles([
      { path: '/cnb', type: 'directory' },
      { path: '/cnb/process', type: 'directory' },
      { path: '/cnb/process/web', type: 'symlink', linkname: '/cnb/lifecycle/launcher' },
      { path: 'cnb/lifecycle/x.txt', content: 'x', mode: 0o600, uid: 7 },
    ]);
    const a = await writeLayerTar(files, join(dir, 'a.tar'));
    const b = await writeLayerTar(files, join(dir, 'b.tar'));
    expect(a.diffId).toBe(b.diffId);
    const seen = await entriesOf(join(dir, 'a.tar'));
    expect(seen.map((s) => [s.header.name, s.header.mode, s.header.uid])).toEqual([
      ['cnb/', 0o755, 0],
      ['cnb/process/', 0o755, 0],
      ['cnb/process/web', 0o644, 0],
      ['cnb/lifecycle/x.txt', 0o600, 7],
    ]);
    expect(seen[2]?.header.linkname).toBe('/cnb/lifecycle/launcher');
  });

  it('rejects escaping paths', () => {
    expect(() => layerFromFiles([{ path: '../x', content: '' }])).toThrow(UnsafeTarEntryError);
  });
});

describe('layerFromDir', () => {
  async function moduleDir(): Promise<string> {
    const root = await tempDir();
    const src = join(root, 'src');
    await mkdir(join(src, 'bin'), { recursive: true });
    await writeFile(join(src, 'bin', 'detect'), '#!/bin/sh\nexit 0\n');
    await chmod(join(src, 'bin', 'detect'), 0o700);
    await writeFile(join(src, 'buildpack.toml'), 'api = "0.10"\n');
    await chmod(join(src, 'buildpack.toml'), 0o600);
    await writeFile(join(src, 'B.txt'), 'upper');
    await symlink('detect', join(src, 'bin', 'build'));
    await link(join(src, 'buildpack.toml'), join(src, 'z-hard.toml'));
    await chmod(join(src, 'bin'), 0o700);
    return src;
  }

  it('walks in byte order, keeps symlinks, turns extra hard links into links, applies the mode policy', async () => {
    const src = await moduleDir();
    const dest = join(await tempDir(), 'm.tar');
    await writeLayerTar(layerFromDir(src, { prefix: '/cnb/buildpacks/bp/1.0', uid: 0, gid: 0, modes: 'world-readable', parents: [{ path: '/cnb', uid: 0, gid: 0, mode: 0o755 }] }), dest);
    const seen = await entriesOf(dest);
    expect(seen.map((s) => [s.header.name, s.header.type, s.header.mode.toString(8)])).toEqual([
      ['cnb/', 'directory', '755'],
      ['cnb/buildpacks/bp/1.0/', 'directory', expect.any(String)],
      ['cnb/buildpacks/bp/1.0/B.txt', 'file', '644'],
      ['cnb/buildpacks/bp/1.0/bin/', 'directory', '755'],
      ['cnb/buildpacks/bp/1.0/bin/build', 'symlink', expect.any(String)],
      ['cnb/buildpacks/bp/1.0/bin/detect', 'file', '755'],
      ['cnb/buildpacks/bp/1.0/buildpack.toml', 'file', '644'],
      ['cnb/buildpacks/bp/1.0/z-hard.toml', 'link', '644'],
    ]);
    expect(seen[4]?.header.linkname).toBe('detect');
    expect(seen[7]?.header.linkname).toBe('cnb/buildpacks/bp/1.0/buildpack.toml');
    expect(seen.every((s) => s.header.uid === 0 && s.header.mtime.getTime() === REPRODUCIBLE_MTIME.getTime())).toBe(true);
  });

  it('keeps modes by default and ignores host mtimes (same diffID after touching files)', async () => {
    const src = await moduleDir();
    const dir = await tempDir();
    const opts = { prefix: '/cnb/buildpacks/bp/1.0', uid: 0, gid: 0 };
    const a = await writeLayerTar(layerFromDir(src, opts), join(dir, 'a.tar'));
    await utimes(join(src, 'B.txt'), new Date('2031-01-01'), new Date('2031-01-01'));
    const b = await writeLayerTar(layerFromDir(src, opts), join(dir, 'b.tar'));
    expect(b.diffId).toBe(a.diffId);
    const detect = (await entriesOf(join(dir, 'a.tar'))).find((s) => s.header.name.endsWith('bin/detect'));
    expect(detect?.header.mode).toBe(0o700);
  });

  it('streams a multi-megabyte file intact', async () => {
    const root = await tempDir();
    const big = Buffer.alloc(6 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
    await mkdir(join(root, 'src'));
    await writeFile(join(root, 'src', 'big.bin'), big);
    const dest = join(root, 'big.tar');
    await writeLayerTar(layerFromDir(join(root, 'src'), { prefix: '/layers/bp/big', uid: 1, gid: 1 }), dest);
    const file = (await entriesOf(dest)).find((s) => s.header.name.endsWith('big.bin'));
    expect(createHash('sha256').update(file?.content ?? Buffer.alloc(0)).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
  });
});
