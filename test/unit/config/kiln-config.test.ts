import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseBuilder } from '../../../src/cli/builder-choice.js';
import { pullPolicyOf } from '../../../src/cli/pull-options.js';
import { decodeKilnConfig, kilnConfigPath, readKilnConfig, writeKilnConfig } from '../../../src/config/kiln-config.js';
import { KilnError } from '../../../src/errors.js';

describe('kiln config (issue 17)', () => {
  it('lives in $XDG_CONFIG_HOME/kiln, else ~/.config/kiln (a relative XDG_CONFIG_HOME is ignored)', () => {
    expect(kilnConfigPath({ XDG_CONFIG_HOME: '/x' }, '/home/u')).toBe('/x/kiln/config.json');
    expect(kilnConfigPath({}, '/home/u')).toBe('/home/u/.config/kiln/config.json');
    expect(kilnConfigPath({ XDG_CONFIG_HOME: 'rel' }, '/home/u')).toBe('/home/u/.config/kiln/config.json');
  });

  it('round-trips default-builder, pull-policy and run-image-mirrors; a missing file is empty', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-config-'));
    try {
      const file = join(dir, 'kiln', 'config.json');
      expect(await readKilnConfig(file)).toEqual({ runImageMirrors: {} });
      await writeKilnConfig({ defaultBuilder: 'b:1', pullPolicy: 'never', runImageMirrors: { 'r:1': ['m/r:1'] } }, file);
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ 'default-builder': 'b:1', 'pull-policy': 'never', 'run-image-mirrors': { 'r:1': ['m/r:1'] } });
      expect(await readKilnConfig(file)).toEqual({ defaultBuilder: 'b:1', pullPolicy: 'never', runImageMirrors: { 'r:1': ['m/r:1'] } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the file and the key of a bad value', () => {
    expect(() => decodeKilnConfig('{"pull-policy": "sometimes"}', '/c.json')).toThrow(/\/c.json.*"pull-policy" must be one of always, if-not-present, never/);
    expect(() => decodeKilnConfig('{"run-image-mirrors": {"r": "m"}}', '/c.json')).toThrow(/"run-image-mirrors"."r" must be a list/);
    expect(() => decodeKilnConfig('nope', '/c.json')).toThrow(/not valid JSON/);
  });

  it('--pull-policy wins over the configured one, which wins over if-not-present; a bad flag is exit 3', () => {
    expect(pullPolicyOf({ pullPolicy: 'always' }, { pullPolicy: 'never', runImageMirrors: {} })).toBe('always');
    expect(pullPolicyOf({}, { pullPolicy: 'never', runImageMirrors: {} })).toBe('never');
    expect(pullPolicyOf({}, { runImageMirrors: {} })).toBe('if-not-present');
    try {
      pullPolicyOf({ pullPolicy: 'sometimes' }, { runImageMirrors: {} });
      expect.unreachable();
    } catch (e) {
      expect((e as KilnError).exitCode).toBe(3);
      expect((e as KilnError).message).toContain('--pull-policy');
    }
  });

  it('the builder: -B, else project.toml, else default-builder; none names all three ways', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-builder-choice-'));
    try {
      const cfg = { defaultBuilder: 'cfg/b:1', runImageMirrors: {} };
      expect(await chooseBuilder({ builder: 'flag/b:1', path: dir }, cfg)).toBe('flag/b:1');
      expect(await chooseBuilder({ path: dir }, cfg)).toBe('cfg/b:1');
      const { writeFile } = await import('node:fs/promises');
      await writeFile(join(dir, 'project.toml'), '[_]\nschema-version = "0.2"\n[io.buildpacks]\nbuilder = "proj/b:1"\n');
      expect(await chooseBuilder({ path: dir }, cfg)).toBe('proj/b:1');
      const e = (await chooseBuilder({ path: join(dir, 'none') }, { runImageMirrors: {} }).catch((err: unknown) => err)) as KilnError;
      expect(e.exitCode).toBe(3);
      expect(e.hint).toMatch(/--builder.*project\.toml.*kiln config default-builder/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
