import { mkdtemp, mkdir, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTar } from '../../../src/image/tar-files.js';
import { appSourceTar, compilePattern, selectAppFiles, type AppFile } from '../../../src/lifecycle/app-source.js';

const files: AppFile[] = [
  { path: 'README.md', type: 'file' },
  { path: 'node_modules', type: 'directory' },
  { path: 'node_modules/x.js', type: 'file' },
  { path: 'src', type: 'directory' },
  { path: 'src/a.js', type: 'file' },
  { path: 'src/a.test.js', type: 'file' },
  { path: 'src/lib', type: 'directory' },
  { path: 'src/lib/b.js', type: 'file' },
  { path: 'src/lib/README.md', type: 'file' },
];
const paths = (fs: AppFile[]) => fs.map((f) => f.path);

describe('compilePattern', () => {
  it('skips blanks, comments and negations', () => {
    expect(compilePattern('  ')).toBeUndefined();
    expect(compilePattern('# x')).toBeUndefined();
    expect(compilePattern('!x')).toBeUndefined();
  });
  it('unanchored names match at any depth; anchored ones only at the root', () => {
    expect(compilePattern('README.md')?.re.test('src/lib/README.md')).toBe(true);
    expect(compilePattern('/README.md')?.re.test('src/lib/README.md')).toBe(false);
    expect(compilePattern('src/*.js')?.re.test('src/lib/b.js')).toBe(false);
    expect(compilePattern('src/**/*.js')?.re.test('src/lib/b.js')).toBe(true);
    expect(compilePattern('src/**/*.js')?.re.test('src/a.js')).toBe(true);
  });
});

describe('selectAppFiles (project.toml include/exclude)', () => {
  it('keeps everything without patterns', () => {
    expect(selectAppFiles(files, [], [])).toHaveLength(files.length);
  });
  it('exclude drops matching files and whole matching directories', () => {
    expect(paths(selectAppFiles(files, [], ['node_modules/', '*.test.js', '/README.md']))).toEqual(['src', 'src/a.js', 'src/lib', 'src/lib/b.js', 'src/lib/README.md']);
  });
  it('a dir-only pattern does not match a file', () => {
    expect(paths(selectAppFiles(files, [], ['README.md/']))).toContain('README.md');
  });
  it('include keeps matches, their contents and their parent dirs', () => {
    expect(paths(selectAppFiles(files, ['src/lib'], []))).toEqual(['src', 'src/lib', 'src/lib/b.js', 'src/lib/README.md']);
    expect(paths(selectAppFiles(files, ['*.md'], []))).toEqual(['README.md', 'src', 'src/lib', 'src/lib/README.md']);
  });
});

describe('appSourceTar', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  it('owns everything by the CNB user, keeps the executable bit and is reproducible', async () => {
    const d = await mkdtemp(join(tmpdir(), 'kiln-app-'));
    dirs.push(d);
    await mkdir(join(d, 'bin'));
    await writeFile(join(d, 'bin', 'run'), '#!/bin/sh\n');
    await chmod(join(d, 'bin', 'run'), 0o700);
    await writeFile(join(d, 'skip.log'), 'x');
    const tar = await appSourceTar(d, { uid: 1000, gid: 1001 }, [], ['*.log']);
    const entries = await readTar(tar);
    expect(entries.map((e) => [e.path, e.type, e.mode.toString(8), e.uid, e.gid])).toEqual([
      ['bin', 'directory', '755', 1000, 1001],
      ['bin/run', 'file', '755', 1000, 1001],
    ]);
    expect((await appSourceTar(d, { uid: 1000, gid: 1001 }, [], ['*.log'])).equals(tar)).toBe(true);
  });
});
