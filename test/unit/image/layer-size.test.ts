/**
 * Size prediction from a directory listing: the listing script runs on this host's sh (GNU tools; the
 * integration test runs it in busybox), and GNU tar --sort=name stands in for the daemon's archive
 * (also a depth-first walk in byte order with hard links after their first occurrence). The predicted
 * size must equal the size of the tar the reference path (normaliseTarStream + writeLayerTar) makes.
 */
import { execFile } from 'node:child_process';
import { link, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { predictLayerTarSize, walkOrder, type ListedEntry } from '../../../src/image/layer-size.js';
import { normaliseTarStream, writeLayerTar, type TarStreamOptions } from '../../../src/image/layer-tar.js';
import { listingScript, parseListings } from '../../../src/lifecycle/export/dir-listing.js';

const run = promisify(execFile);
const dirs: string[] = [];
const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) s.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const placement: TarStreamOptions = {
  prefix: '/layers/example_node/node',
  uid: 1000,
  gid: 1000,
  parents: [
    { path: '/layers', uid: 1000, gid: 1000, mode: 0o755 },
    { path: '/layers/example_node', uid: 1000, gid: 1000, mode: 0o755 },
  ],
};

async function sampleDir(): Promise<{ parent: string; dir: string }> {
  const parent = await mkdtemp(join(tmpdir(), 'kiln-layer-size-'));
  dirs.push(parent);
  const dir = join(parent, 'node');
  const deep = join(dir, 'a'.repeat(60), 'b'.repeat(60), 'c'.repeat(60));
  await mkdir(deep, { recursive: true });
  await mkdir(join(dir, 'skip', 'inner'), { recursive: true });
  await writeFile(join(deep, 'file'), 'deep');
  await writeFile(join(dir, 'empty'), '');
  await writeFile(join(dir, 'block'), Buffer.alloc(512, 1));
  await writeFile(join(dir, 'odd'), Buffer.alloc(1000, 2));
  await writeFile(join(dir, `long-${'l'.repeat(120)}`), 'long name');
  await writeFile(join(dir, 'ünïcödé'), 'non-ASCII');
  await writeFile(join(dir, 'new\nline'), 'newline');
  await writeFile(join(dir, 'skip', 'inner', 'x'), 'excluded');
  await writeFile(join(dir, 'first'), 'linked');
  await link(join(dir, 'first'), join(dir, `zz-second-${'h'.repeat(100)}`));
  await link(join(dir, 'first'), join(deep, 'third'));
  await symlink('target', join(dir, 'sym'));
  await symlink(`/${'t'.repeat(150)}`, join(dir, 'sym-long'));
  await run('mkfifo', [join(dir, 'fifo')]);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(dir, 'sock'), resolve));
  servers.push(server); // closing it would remove the socket file
  return { parent, dir };
}

async function listed(dir: string): Promise<ListedEntry[]> {
  const s = listingScript([dir, join(dir, 'absent')]);
  const { stdout } = await run('sh', ['-c', s.script, 'kiln-list', ...s.args], { maxBuffer: 1 << 24 });
  const parsed = parseListings(stdout.split('\n'));
  expect([...parsed.keys()]).toEqual([dir]);
  return parsed.get(dir) as ListedEntry[];
}

async function actualSize(parent: string, opts: TarStreamOptions): Promise<number> {
  const { stdout } = await run('tar', ['--sort=name', '--format=pax', '-cf', '-', '-C', parent, 'node'], { encoding: 'buffer', maxBuffer: 1 << 24 });
  const out = join(parent, 'ref.tar');
  const { size } = await writeLayerTar(normaliseTarStream(Readable.from([stdout]), opts), out);
  expect(size).toBe((await readFile(out)).length);
  return size;
}

describe('listingScript + parseListings', () => {
  it('lists every path with its kind, size, links and inode, names with newlines intact', async () => {
    const { dir } = await sampleDir();
    const entries = await listed(dir);
    const by = new Map(entries.map((e) => [e.path, e]));
    expect(by.get('.')?.kind).toBe('directory');
    expect(by.get('new\nline')).toMatchObject({ kind: 'file', size: 7, nlink: 1 });
    expect(by.get('sym')).toMatchObject({ kind: 'symlink', size: 6 });
    expect(by.get('fifo')?.kind).toBe('fifo');
    expect(by.get('sock')?.kind).toBe('socket');
    expect(by.get('first')?.nlink).toBe(3);
    expect(by.get('first')?.ino).toBe(by.get(`zz-second-${'h'.repeat(100)}`)?.ino);
  });

  it('drops a dir whose halves do not line up', () => {
    const lines = ['LS-DIR 2 /a', 'LS-M 41ed 4096 2 1', 'LS-M 81a4 3 1 2', '.', './x', 'LS-END /a', 'LS-DIR 2 /b', 'LS-M 41ed 4096 2 1', '.', './x', 'LS-END /b'];
    const parsed = parseListings(lines);
    expect([...parsed.keys()]).toEqual(['/a']);
    expect(parsed.get('/a')).toEqual([
      { path: '.', kind: 'directory', size: 4096, nlink: 2, ino: '1' },
      { path: 'x', kind: 'file', size: 3, nlink: 1, ino: '2' },
    ]);
  });
});

describe('predictLayerTarSize', () => {
  it('predicts the exact size of the normalised tar (pax names, prefix splits, hard links, fifo, socket)', async () => {
    const { parent, dir } = await sampleDir();
    const entries = await listed(dir);
    expect(predictLayerTarSize(entries, placement)).toBe(await actualSize(parent, placement));
  });

  it('predicts with excluded subtrees', async () => {
    const { parent, dir } = await sampleDir();
    const entries = await listed(dir);
    const opts = { ...placement, exclude: (rel: string) => rel === 'skip' || rel === 'odd' };
    expect(predictLayerTarSize(entries, opts)).toBe(await actualSize(parent, opts));
  });

  const e = (path: string, kind: ListedEntry['kind'], extra: Partial<ListedEntry> = {}): ListedEntry => ({ path, kind, size: 0, nlink: 1, ino: path, ...extra });

  it('walks like Go: depth first, names in byte order', () => {
    const order = walkOrder([e('.', 'directory'), e('a-c', 'file'), e('a', 'directory'), e('a/b', 'file'), e('B', 'file')]);
    expect(order?.map((x) => x.path)).toEqual(['.', 'B', 'a', 'a/b', 'a-c']);
  });

  it('skips devices and sockets, counts a fifo, and gives up where the export would fail or the listing is no tree', () => {
    const root = e('.', 'directory');
    const base = predictLayerTarSize([root], placement) as number;
    expect(base).toBe(3 * 512 + 1024);
    expect(predictLayerTarSize([root, e('tty', 'char'), e('sda', 'block'), e('s', 'socket')], placement)).toBe(base);
    expect(predictLayerTarSize([root, e('p', 'fifo')], placement)).toBe(base + 512);
    expect(predictLayerTarSize([root, e('f', 'file', { size: 1 })], placement)).toBe(base + 1024);
    // a hard link whose first occurrence is excluded: normaliseTarStream rejects it
    const linked = [root, e('a', 'file', { nlink: 2, ino: '7', size: 3 }), e('b', 'file', { nlink: 2, ino: '7', size: 3 })];
    expect(predictLayerTarSize(linked, placement)).toBe(base + 1024 + 512);
    expect(predictLayerTarSize(linked, { ...placement, exclude: (r) => r === 'a' })).toBeUndefined();
    // hard-linked symlinks become links to a non-file
    expect(predictLayerTarSize([root, e('a', 'symlink', { nlink: 2, ino: '8', size: 1 }), e('b', 'symlink', { nlink: 2, ino: '8', size: 1 })], placement)).toBeUndefined();
    expect(predictLayerTarSize([root, e('x/y', 'file')], placement)).toBeUndefined();
    expect(predictLayerTarSize([e('f', 'file')], placement)).toBeUndefined();
    expect(predictLayerTarSize([root, e('w', 'other')], placement)).toBeUndefined();
  });
});
