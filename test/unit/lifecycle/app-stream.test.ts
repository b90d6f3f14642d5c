import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK, decodeHeader } from '../../../src/image/tar-header.js';
import { readTar } from '../../../src/image/tar-files.js';
import { appSourceStream, appSourceTar } from '../../../src/lifecycle/app-source.js';
import { writeToVolumes } from '../../../src/lifecycle/container/volume-io.js';
import type { PhaseContext } from '../../../src/lifecycle/phase-context.js';
import type { KilnEvent } from '../../../src/ports.js';
import { FakeEngine } from '../../helpers/fake-engine.js';

const user = { uid: 1000, gid: 1001 };
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-app-stream-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Reads a stream to its end, keeping only its first bytes, its length and the largest amount buffered. */
async function drain(s: Readable, keep = BLOCK): Promise<{ head: Buffer; total: number; mostBuffered: number }> {
  let head = Buffer.alloc(0);
  let total = 0;
  let mostBuffered = 0;
  for await (const c of s) {
    const b = c as Buffer;
    if (head.length < keep) head = Buffer.concat([head, b.subarray(0, keep - head.length)]);
    total += b.length;
    mostBuffered = Math.max(mostBuffered, s.readableLength, b.length);
  }
  return { head, total, mostBuffered };
}

describe('the app tar is streamed (issue 14, point 9)', () => {
  it('packs a sparse file over 2 GiB with bounded buffering and the right size in its header', async () => {
    const app = join(dir, 'big');
    mkdirSync(app);
    const size = 2 * 1024 * 1024 * 1024 + 4096 + 3;
    writeFileSync(join(app, 'big.bin'), '');
    truncateSync(join(app, 'big.bin'), size);
    writeFileSync(join(app, 'run.sh'), 'echo hi\n');
    const { head, total, mostBuffered } = await drain(appSourceStream(app, user));
    const header = decodeHeader(head);
    expect(header).toMatchObject({ name: 'big.bin', size, uid: 1000, gid: 1001, mode: 0o644 });
    const pad = (n: number) => (BLOCK - (n % BLOCK)) % BLOCK;
    // big.bin header + content + padding, run.sh header + content + padding, two zero blocks.
    expect(total).toBe(BLOCK + size + pad(size) + BLOCK + BLOCK + 2 * BLOCK);
    expect(mostBuffered).toBeLessThanOrEqual(2 * 1024 * 1024);
  }, 300_000);

  it('keeps a name that is not UTF-8 as its bytes (a pax record; GNU tar extracts the same name)', async () => {
    const app = join(dir, 'latin1');
    mkdirSync(app);
    const raw = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]); // "café.txt" in latin-1
    writeFileSync(Buffer.concat([Buffer.from(`${app}/`), raw]), 'bonjour\n');
    mkdirSync(Buffer.concat([Buffer.from(`${app}/d-`), raw]));
    const tar = await appSourceTar(app, user);
    expect(tar.includes(Buffer.concat([Buffer.from(' path='), raw, Buffer.from('\n')]))).toBe(true);
    const out = join(dir, 'latin1-out');
    mkdirSync(out);
    execFileSync('tar', ['-xf', '-', '-C', out], { input: tar });
    const names = readdirSync(out, { encoding: 'buffer' }).map((n) => n.toString('hex')).sort();
    expect(names).toEqual([raw.toString('hex'), Buffer.concat([Buffer.from('d-'), raw]).toString('hex')].sort());
    expect(readFileSync(Buffer.concat([Buffer.from(`${out}/`), raw]), 'utf8')).toBe('bonjour\n');
  });

  it('skips FIFOs instead of waiting on them, and applies include patterns during the walk', async () => {
    const app = join(dir, 'fifo');
    mkdirSync(join(app, 'docs', 'deep'), { recursive: true });
    mkdirSync(join(app, 'src'));
    writeFileSync(join(app, 'docs', 'deep', 'a.md'), '# a\n');
    writeFileSync(join(app, 'src', 'x.js'), 'x\n');
    execFileSync('mkfifo', [join(app, 'pipe')]);
    expect((await readTar(await appSourceTar(app, user))).map((e) => e.path)).toEqual(['docs', 'docs/deep', 'docs/deep/a.md', 'src', 'src/x.js']);
    expect((await readTar(await appSourceTar(app, user, ['*.md']))).map((e) => e.path)).toEqual(['docs', 'docs/deep', 'docs/deep/a.md']);
  });
});

describe('writeToVolumes with a streamed app', () => {
  function fakeCtx(events: KilnEvent[], received: Buffer[]): PhaseContext {
    const engine = new FakeEngine({
      putArchive: async (_id: string, _dest: string, tar: Readable | Buffer) => {
        if (Buffer.isBuffer(tar)) received.push(tar);
        else for await (const c of tar) received.push(c as Buffer);
      },
    });
    return { engine, reporter: { emit: (e) => events.push(e) }, labels: {}, ids: { newId: () => 'x' }, volumeHost: { id: 'host', mounts: new Map([['app', '/workspace']]) } };
  }

  it('reports the file that cannot be read, not the truncated request', async () => {
    const events: KilnEvent[] = [];
    const received: Buffer[] = [];
    const missing = join(dir, 'no-such-file');
    const err = await writeToVolumes(fakeCtx(events, received), [{ volume: 'app', image: 'i', entries: [{ path: 'gone', type: 'file', uid: 1, gid: 1, hostPath: missing }] }]).catch((e: unknown) => e);
    expect((err as Error).message).toContain(missing);
  });

  it('sends in-memory entries and streamed ones in one tar under the volume mount', async () => {
    const app = join(dir, 'small');
    mkdirSync(app);
    writeFileSync(join(app, 'f.txt'), 'hello\n');
    const received: Buffer[] = [];
    const { appSourcePackEntries } = await import('../../../src/lifecycle/app-source.js');
    await writeToVolumes(fakeCtx([], received), [{ volume: 'app', image: 'i', entries: appSourcePackEntries(app, user) }]);
    const entries = await readTar(Buffer.concat(received));
    expect(entries.map((e) => [e.path, e.uid, e.content.toString()])).toEqual([['workspace/f.txt', 1000, 'hello\n']]);
  });
});

describe('an interrupt while a large file is sent', () => {
  it('stops the tar within the file, not after it', async () => {
    const app = join(dir, 'abort');
    mkdirSync(app);
    writeFileSync(join(app, 'big.bin'), '');
    truncateSync(join(app, 'big.bin'), 512 * 1024 * 1024);
    const { packTarStream } = await import('../../../src/image/tar-pack-stream.js');
    const { appPackOptions, appSourcePackEntries } = await import('../../../src/lifecycle/app-source.js');
    const abort = new AbortController();
    const progress = { files: 0, bytes: 0 };
    const tar = packTarStream(appSourcePackEntries(app, user), { ...appPackOptions(progress), signal: abort.signal });
    let read = 0;
    const err = await (async () => {
      for await (const c of tar) {
        read += (c as Buffer).length;
        if (read > 8 * 1024 * 1024) abort.abort();
      }
    })().catch((e: unknown) => e);
    expect((err as Error).message).toContain('interrupted');
    expect(read).toBeLessThan(64 * 1024 * 1024);
  });
});
