import { describe, expect, it } from 'vitest';
import { makeTar, readTar, readTarFiles, safeEntryPath, UnsafeTarEntryError, withParentDirs } from '../../../src/image/tar-files.js';

describe('tar-files', () => {
  it('round-trips files, directories and symlinks', async () => {
    const tar = await makeTar([
      { path: 'a', type: 'directory' },
      { path: 'a/b.txt', content: 'hello', mode: 0o755, uid: 1000, gid: 1000 },
      { path: 'a/link', type: 'symlink', linkname: 'b.txt' },
    ]);
    const entries = await readTar(tar);
    expect(entries.map((e) => [e.path, e.type])).toEqual([['a', 'directory'], ['a/b.txt', 'file'], ['a/link', 'symlink']]);
    expect(entries[1]).toMatchObject({ mode: 0o755, uid: 1000, gid: 1000 });
    expect(entries[2]?.linkname).toBe('b.txt');
    expect((await readTarFiles(tar)).get('a/b.txt')?.toString()).toBe('hello');
  });
  it('is reproducible', async () => {
    const a = await makeTar([{ path: 'x', content: '1' }]);
    const b = await makeTar([{ path: 'x', content: '1' }]);
    expect(a.equals(b)).toBe(true);
  });
  it('rejects entries escaping the root', async () => {
    expect(safeEntryPath('../etc/passwd')).toBeUndefined();
    expect(safeEntryPath('/abs/ok')).toBe('abs/ok');
    expect(safeEntryPath('./a/../b')).toBe('b');
    const tar = await makeTar([{ path: 'x/../../evil', content: 'x' }]);
    await expect(readTar(tar)).rejects.toBeInstanceOf(UnsafeTarEntryError);
  });
});

describe('withParentDirs', () => {
  it('puts each parent directory once, before the first entry below it, with the given owner', () => {
    const out = withParentDirs([{ path: 'a/b/x', content: '1' }, { path: 'a/c', content: '2' }, { path: 'y', content: '3' }], { uid: 7, gid: 8 });
    expect(out.map((e) => [e.path, e.type ?? 'file', e.uid])).toEqual([
      ['a', 'directory', 7],
      ['a/b', 'directory', 7],
      ['a/b/x', 'file', undefined],
      ['a/c', 'file', undefined],
      ['y', 'file', undefined],
    ]);
    expect(out[0]?.mode).toBe(0o755);
  });
});
