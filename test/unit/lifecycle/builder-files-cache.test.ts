import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadBuilderFiles, saveBuilderFiles } from '../../../src/lifecycle/builder-files-cache.js';

const ID = `sha256:${'ab'.repeat(32)}`;
let dir: string;
let before: string | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-bfc-'));
  before = process.env.KILN_CACHE_DIR;
  process.env.KILN_CACHE_DIR = dir;
});
afterEach(async () => {
  if (before === undefined) delete process.env.KILN_CACHE_DIR;
  else process.env.KILN_CACHE_DIR = before;
  await rm(dir, { recursive: true, force: true });
});

describe('builder files cache', () => {
  it('gives back what was saved for an image id, missing paths included', async () => {
    const order = [{ path: 'order.toml', type: 'file', mode: 0o644, uid: 0, gid: 0, content: Buffer.from('[[order]]\n') }];
    await saveBuilderFiles(ID, { order, buildpacks: [] });
    const got = await loadBuilderFiles(ID);
    expect(got?.order?.[0]?.content.toString()).toBe('[[order]]\n');
    expect(got?.buildpacks).toEqual([]);
    expect(got?.run).toBeUndefined();
  });
  it('keeps nothing for ids that are not content digests, and ignores a corrupt file', async () => {
    await saveBuilderFiles('sha256:builder', { order: [] });
    expect(await loadBuilderFiles('sha256:builder')).toBeUndefined();
    await mkdir(join(dir, 'builders'), { recursive: true });
    await writeFile(join(dir, 'builders', `${'ab'.repeat(32)}.json`), '{not json');
    expect(await loadBuilderFiles(ID)).toBeUndefined();
  });
});
