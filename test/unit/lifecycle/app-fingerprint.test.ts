/** Issue 21: the incremental app fingerprint (what kiln sends, after include/exclude; stat index). */
import { chmod, mkdir, mkdtemp, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprintApp } from '../../../src/lifecycle/app-fingerprint.js';

let dir = '';
let app = '';
let index = '';
const later = Date.now() + 60_000;
const fp = (over: { exclude?: string[]; include?: string[] } = {}) => fingerprintApp(app, { indexFile: index, now: later, ...over });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-fp-'));
  app = join(dir, 'app');
  index = join(dir, 'cache', 'index.json');
  await mkdir(join(app, 'src'), { recursive: true });
  await writeFile(join(app, 'src', 'a.txt'), 'abc\n');
  await writeFile(join(app, 'b.txt'), 'b\n');
  await symlink('src/a.txt', join(app, 'link'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fingerprintApp', () => {
  it('is stable for unchanged input and reads no content the second time', () => {
    const first = fp();
    expect(first.hashed).toBe(3);
    const second = fp();
    expect(second.digest).toBe(first.digest);
    expect(second.hashed).toBe(0);
  });

  it('changes with a one-byte change of the same size, even with the old mtime back', async () => {
    const before = fp().digest;
    await writeFile(join(app, 'src', 'a.txt'), 'abX\n');
    await utimes(join(app, 'src', 'a.txt'), 1_000_000, 1_000_000);
    const after = fp();
    expect(after.digest).not.toBe(before);
    expect(after.hashed).toBe(1);
  });

  it('changes with a mode, a new empty dir, a deleted file, a symlink target', async () => {
    const seen = new Set([fp().digest]);
    await chmod(join(app, 'b.txt'), 0o755);
    seen.add(fp().digest);
    await mkdir(join(app, 'empty'));
    seen.add(fp().digest);
    await unlink(join(app, 'b.txt'));
    seen.add(fp().digest);
    await unlink(join(app, 'link'));
    await symlink('src', join(app, 'link'));
    seen.add(fp().digest);
    expect(seen.size).toBe(5);
  });

  it('follows project.toml exclude/include: an excluded file does not count, the patterns do', async () => {
    const excl = fp({ exclude: ['b.txt'] }).digest;
    await writeFile(join(app, 'b.txt'), 'changed\n');
    expect(fp({ exclude: ['b.txt'] }).digest).toBe(excl);
    expect(fp({ exclude: ['*.md'] }).digest).not.toBe(excl);
    expect(fp({ include: ['src/'] }).digest).not.toBe(fp().digest);
  });

  it('does not index files changed just now (racily clean), so they are read again', async () => {
    const now = Date.now();
    fingerprintApp(app, { indexFile: index, now });
    expect(fingerprintApp(app, { indexFile: index, now }).hashed).toBe(3);
  });

  it('works without an index and with an unreadable one', async () => {
    await mkdir(join(dir, 'cache'), { recursive: true });
    await writeFile(index, 'not json');
    expect(fp().digest).toBe(fingerprintApp(app).digest);
  });
});
