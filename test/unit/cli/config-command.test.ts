import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runKiln, type CliRun } from '../../helpers/cli.js';

let dir = '';
let saved: string | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-config-cli-'));
  saved = process.env.XDG_CONFIG_HOME;
  process.env.XDG_CONFIG_HOME = dir;
});
afterEach(async () => {
  if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
  else process.env.XDG_CONFIG_HOME = saved;
  await rm(dir, { recursive: true, force: true });
});

const kiln = (...args: string[]): Promise<CliRun> => runKiln(args);

describe('kiln config (issue 17)', () => {
  it('sets, shows, lists and removes default-builder, pull-policy and run-image-mirrors', async () => {
    expect((await kiln('config', 'default-builder', 'kiln/debian-builder:bookworm')).code).toBe(0);
    expect((await kiln('config', 'pull-policy', 'always')).code).toBe(0);
    expect((await kiln('config', 'run-image-mirrors', 'kiln/run:1', '-m', 'a.io/run:1', '-m', 'b.io/run:1')).code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'kiln/config.json'), 'utf8'))).toEqual({
      'default-builder': 'kiln/debian-builder:bookworm',
      'pull-policy': 'always',
      'run-image-mirrors': { 'kiln/run:1': ['a.io/run:1', 'b.io/run:1'] },
    });
    expect((await kiln('config', 'default-builder')).out).toBe('kiln/debian-builder:bookworm\n');
    const list = (await kiln('config')).out;
    expect(list).toContain(join(dir, 'kiln/config.json'));
    expect(list).toContain('pull-policy = always');
    expect(list).toContain('run-image-mirrors kiln/run:1 = a.io/run:1, b.io/run:1');
    await kiln('config', 'run-image-mirrors', 'kiln/run:1', '--remove', '-m', 'a.io/run:1');
    expect((await kiln('config', 'run-image-mirrors', 'kiln/run:1')).out).toBe('b.io/run:1\n');
    await kiln('config', 'run-image-mirrors', 'kiln/run:1', '--remove');
    await kiln('config', 'default-builder', '--unset');
    await kiln('config', 'pull-policy', '--unset');
    expect(JSON.parse(await readFile(join(dir, 'kiln/config.json'), 'utf8'))).toEqual({});
  });

  it('refuses an unknown pull policy with exit 3 naming the choices, and writes nothing', async () => {
    const r = await kiln('config', 'pull-policy', 'sometimes');
    expect(r.code).toBe(3);
    expect(r.err).toContain('"sometimes" is not a pull policy');
    expect(r.err).toContain('always, if-not-present, never');
    await expect(readFile(join(dir, 'kiln/config.json'), 'utf8')).rejects.toThrow();
  });

  it('build without a builder anywhere fails with exit 3 naming all three ways', async () => {
    const r = await kiln('build', 'kiln-test/app', '--path', dir);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/--builder/);
    expect(r.err).toMatch(/project\.toml/);
    expect(r.err).toMatch(/kiln config default-builder/);
  });
});
