/**
 * LayerReheader against the reference path: for the same source tar it must write exactly the bytes
 * writeLayerTar(normaliseTarStream(...)) writes (same diffID), whatever the chunking of the input.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import * as tarStream from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { LayerReheader } from '../../../src/image/layer-reheader.js';
import { normaliseTarStream, writeLayerTar, type TarStreamOptions } from '../../../src/image/layer-tar.js';
import { encodeHeader } from '../../../src/image/tar-header.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kiln-reheader-'));
  dirs.push(d);
  return d;
}

type SourceEntry = Partial<tarStream.Header> & { name: string; body?: Buffer | string };

async function sourceTar(entries: SourceEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const { body, ...h } of entries) {
    await new Promise<void>((resolve, reject) => {
      const header = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: new Date(), ...h };
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (body !== undefined) pack.entry(header, typeof body === 'string' ? Buffer.from(body) : body, cb);
      else pack.entry(header, cb).end(Buffer.alloc(0));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** The input cut into pieces of the given sizes (cycled), to exercise headers split over chunks. */
function chunked(buf: Buffer, sizes: number[]): Readable {
  const parts: Buffer[] = [];
  let off = 0;
  for (let i = 0; off < buf.length; i++) {
    const n = sizes[i % sizes.length] as number;
    parts.push(buf.subarray(off, off + n));
    off += n;
  }
  return Readable.from(parts);
}

async function reference(src: Buffer, opts: TarStreamOptions): Promise<Buffer> {
  const dest = join(await tempDir(), 'ref.tar');
  await writeLayerTar(normaliseTarStream(Readable.from([src]), opts), dest);
  return readFile(dest);
}

async function reheaded(src: Readable, opts: TarStreamOptions): Promise<{ bytes: Buffer; diffId: string; size: number }> {
  const r = new LayerReheader(opts);
  const chunks: Buffer[] = [];
  src.pipe(r);
  for await (const c of r) chunks.push(c as Buffer);
  const bytes = Buffer.concat(chunks);
  return { bytes, ...r.result() };
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const placement: TarStreamOptions = {
  prefix: '/layers/example_node/node',
  uid: 1000,
  gid: 1001,
  parents: [
    { path: '/layers', uid: 1000, gid: 1001, mode: 0o755 },
    { path: '/layers/example_node', uid: 1000, gid: 1001, mode: 0o755 },
  ],
};

const long = `${'d'.repeat(90)}/${'e'.repeat(90)}/${'f'.repeat(120)}`;
const ENTRIES: SourceEntry[] = [
  { name: 'node/', type: 'directory', mode: 0o755 },
  { name: 'node/bin/', type: 'directory', mode: 0o750 },
  { name: 'node/bin/run', mode: 0o755, body: '#!/bin/sh\necho hi\n' },
  { name: 'node/empty', mode: 0o644, body: '' },
  { name: 'node/exact-512', mode: 0o600, body: 'x'.repeat(512) },
  { name: 'node/big', mode: 0o644, body: randomBytes(70_001) },
  { name: 'node/link-to-run', type: 'link', linkname: 'node/bin/run', mode: 0o755 },
  { name: 'node/sym', type: 'symlink', linkname: '../elsewhere/target', mode: 0o777 },
  { name: `node/sym-long`, type: 'symlink', linkname: `/opt/${'t'.repeat(150)}`, mode: 0o777 },
  { name: `node/${long}`, mode: 0o644, body: 'long name' },
  { name: `node/${'n'.repeat(99)}/x`, mode: 0o644, body: 'ustar prefix split' },
  { name: 'node/ünïcödé-名前', mode: 0o644, body: 'non-ASCII' },
  { name: 'node/new\nline', mode: 0o644, body: 'newline in the name' },
  { name: 'node/zero-mode', mode: 0, body: 'mode 0 becomes 0644' },
  { name: 'node/fifo', type: 'fifo', mode: 0o644 },
  { name: 'node/tty', type: 'character-device', mode: 0o600, devmajor: 5, devminor: 0 },
  { name: 'node/disk', type: 'block-device', mode: 0o600, devmajor: 8, devminor: 0 },
  { name: 'node/skip/', type: 'directory', mode: 0o755 },
  { name: 'node/skip/me', mode: 0o644, body: 'excluded' },
];

describe('LayerReheader', () => {
  it('writes the same bytes as writeLayerTar(normaliseTarStream()) whatever the chunking', async () => {
    const src = await sourceTar(ENTRIES);
    const want = await reference(src, placement);
    for (const sizes of [[src.length], [1], [7, 511, 513], [512], [4096, 3, 100_000], [65_536]]) {
      const got = await reheaded(chunked(src, sizes), placement);
      expect(got.bytes.equals(want), `chunks ${sizes.join(',')}`).toBe(true);
      expect(got.diffId).toBe(sha(want));
      expect(got.size).toBe(want.length);
    }
  });

  it('leaves excluded subtrees out exactly as normaliseTarStream does', async () => {
    const src = await sourceTar(ENTRIES);
    const opts = { ...placement, exclude: (rel: string) => rel === 'skip' || rel === 'big' };
    const want = await reference(src, opts);
    const got = await reheaded(chunked(src, [1000]), opts);
    expect(got.bytes.equals(want)).toBe(true);
    expect(got.size).toBeLessThan((await reference(src, placement)).length);
  });

  it('follows pax records (also global ones) and GNU long names like tar-stream', async () => {
    const dir = await tempDir();
    const root = join(dir, 'node');
    await mkdir(join(root, 'a'.repeat(120), 'b'.repeat(120)), { recursive: true });
    await writeFile(join(root, 'a'.repeat(120), 'b'.repeat(120), 'file'), 'deep');
    await writeFile(join(root, 'plain'), 'plain');
    await link(join(root, 'plain'), join(root, `hard-${'h'.repeat(120)}`));
    await symlink(`/${'s'.repeat(140)}`, join(root, 'long-target'));
    const run = promisify(execFile);
    const compared: string[] = [];
    for (const format of ['gnu', 'pax', 'ustar', 'posix']) {
      const out = join(dir, `${format}.tar`);
      try {
        await run('tar', [`--format=${format}`, '-cf', out, '-C', dir, 'node'], { maxBuffer: 1 << 20 });
      } catch {
        continue; // ustar cannot hold the long names: tar refuses, nothing to compare
      }
      const src = await readFile(out);
      const want = await reference(src, placement);
      const got = await reheaded(chunked(src, [333]), placement);
      expect(got.bytes.equals(want), format).toBe(true);
      compared.push(format);
    }
    expect(compared).toEqual(expect.arrayContaining(['gnu', 'pax']));
  });

  it('fails like normaliseTarStream on a truncated source, an escaping name and a dangling hard link', async () => {
    const src = await sourceTar(ENTRIES);
    await expect(reheaded(Readable.from([src.subarray(0, 3000)]), placement)).rejects.toThrow(/Unexpected end of data/);
    const escaping = await sourceTar([{ name: 'node/', type: 'directory' }, { name: 'node/../../etc/passwd', body: 'x' }]);
    await expect(reheaded(Readable.from([escaping]), placement)).rejects.toThrow(/escapes its root/);
    const dangling = await sourceTar([{ name: 'node/', type: 'directory' }, { name: 'node/l', type: 'link', linkname: 'node/missing' }]);
    await expect(reheaded(Readable.from([dangling]), placement)).rejects.toThrow(/not in the layer/);
  });

  it('writes only the parents and the end marker for an empty source', async () => {
    const got = await reheaded(Readable.from([Buffer.alloc(1024)]), placement);
    expect(got.bytes.equals(await reference(Buffer.alloc(1024), placement))).toBe(true);
    expect(got.size).toBe(2 * 512 + 1024);
  });
});

describe('encodeHeader', () => {
  it('gives one block for short ASCII names and a pax triple otherwise', () => {
    const base = { type: 'file' as const, mode: 0o644, uid: 0, gid: 0, size: 3 };
    expect(encodeHeader({ ...base, path: 'a/b' }).length).toBe(512);
    expect(encodeHeader({ ...base, path: `${'p'.repeat(150)}/${'n'.repeat(100)}` }).length).toBe(512);
    expect(encodeHeader({ ...base, path: 'ä' }).length).toBe(1536);
    expect(encodeHeader({ ...base, path: 'x'.repeat(101) }).length).toBe(1536);
    expect(encodeHeader({ ...base, type: 'symlink', path: 's', linkname: 'l'.repeat(101) }).length).toBe(1536);
  });
});
