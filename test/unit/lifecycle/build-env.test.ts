import { describe, expect, it } from 'vitest';
import { applyBuildLayer, applyBuildLayers, applyEnvDir, applyPlatformEnv, moduleExecutionEnv } from '../../../src/lifecycle/build-env.js';

const f = (name: string, content: string) => ({ name, content });

describe('applyEnvDir', () => {
  it('unsuffixed overrides, .override overrides', () => {
    expect(applyEnvDir({ FOO: 'old' }, [f('FOO', 'new')])).toEqual({ FOO: 'new' });
    expect(applyEnvDir({ FOO: 'old' }, [f('FOO.override', 'new')])).toEqual({ FOO: 'new' });
  });
  it('.default only fills an empty or unset variable', () => {
    expect(applyEnvDir({ FOO: 'old' }, [f('FOO.default', 'd')])).toEqual({ FOO: 'old' });
    expect(applyEnvDir({ FOO: '' }, [f('FOO.default', 'd')])).toEqual({ FOO: 'd' });
    expect(applyEnvDir({}, [f('FOO.default', 'd')])).toEqual({ FOO: 'd' });
  });
  it('append/prepend glue without .delim and use the delim of the same dir', () => {
    expect(applyEnvDir({ FOO: 'a' }, [f('FOO.append', 'b')])).toEqual({ FOO: 'ab' });
    expect(applyEnvDir({ FOO: 'a' }, [f('FOO.append', 'b'), f('FOO.delim', ':')])).toEqual({ FOO: 'a:b' });
    expect(applyEnvDir({ FOO: 'a' }, [f('FOO.prepend', 'b'), f('FOO.delim', ',')])).toEqual({ FOO: 'b,a' });
  });
  it('append to an empty variable gives just the value', () => {
    expect(applyEnvDir({}, [f('FOO.append', 'b'), f('FOO.delim', ':')])).toEqual({ FOO: 'b' });
  });
  it('processes files in lexical order: FOO, FOO.append, FOO.default, FOO.override, FOO.prepend', () => {
    const env = applyEnvDir({}, [f('FOO.prepend', 'P'), f('FOO.override', 'O'), f('FOO.default', 'D'), f('FOO.append', 'A'), f('FOO', 'X')]);
    // X -> XA -> (default skipped) -> O -> PO
    expect(env).toEqual({ FOO: 'PO' });
  });
  it('keeps contents verbatim, trailing newline included', () => {
    expect(applyEnvDir({}, [f('FOO', 'v\n')])).toEqual({ FOO: 'v\n' });
  });
  it('ignores unknown suffixes and does not treat .delim as a value', () => {
    expect(applyEnvDir({ FOO: 'a' }, [f('FOO.weird', 'x'), f('FOO.delim', ':')])).toEqual({ FOO: 'a' });
  });
  it('a delim from another directory does not apply', () => {
    const afterFirst = applyEnvDir({ FOO: 'a' }, [f('FOO.delim', ':')]);
    expect(applyEnvDir(afterFirst, [f('FOO.append', 'b')])).toEqual({ FOO: 'ab' });
  });
  it('build-config mode treats unsuffixed as default', () => {
    expect(applyEnvDir({ FOO: 'a' }, [f('FOO', 'x')], 'default')).toEqual({ FOO: 'a' });
    expect(applyEnvDir({}, [f('FOO', 'x')], 'default')).toEqual({ FOO: 'x' });
  });
  it('does not mutate its input', () => {
    const env = { FOO: 'a' };
    applyEnvDir(env, [f('FOO', 'b')]);
    expect(env).toEqual({ FOO: 'a' });
  });
});

describe('applyBuildLayer', () => {
  it('prepends existing root dirs with ":" then applies env/ then env.build/', () => {
    const env = applyBuildLayer(
      { PATH: '/bin', LD_LIBRARY_PATH: '' },
      { path: '/layers/a/tool', rootDirs: ['bin', 'lib', 'include', 'pkgconfig'], env: [f('FOO', 'env'), f('BAR', 'b')], envBuild: [f('FOO', 'build')] },
    );
    expect(env).toEqual({
      PATH: '/layers/a/tool/bin:/bin',
      LD_LIBRARY_PATH: '/layers/a/tool/lib',
      LIBRARY_PATH: '/layers/a/tool/lib',
      CPATH: '/layers/a/tool/include',
      PKG_CONFIG_PATH: '/layers/a/tool/pkgconfig',
      FOO: 'build',
      BAR: 'b',
    });
  });
  it('skips root dirs that do not exist', () => {
    expect(applyBuildLayer({ PATH: '/bin' }, { path: '/l/x', rootDirs: [], env: [], envBuild: [] })).toEqual({ PATH: '/bin' });
  });
  it('layers apply alphabetically, so later names end up first on PATH', () => {
    const env = applyBuildLayers({ PATH: '/bin' }, [
      { name: 'b', path: '/l/b', rootDirs: ['bin'], env: [f('X', 'b')], envBuild: [] },
      { name: 'a', path: '/l/a', rootDirs: ['bin'], env: [f('X', 'a'), f('Y.default', 'a')], envBuild: [] },
    ]);
    expect(env.PATH).toBe('/l/b/bin:/l/a/bin:/bin');
    expect(env.X).toBe('b');
    expect(env.Y).toBe('a');
  });
});

describe('platform env and module execution env', () => {
  it('prepends path-like vars with ":" and overrides others', () => {
    expect(applyPlatformEnv({ PATH: '/bin', FOO: 'bp' }, { PATH: '/user/bin', FOO: 'user', NEW: 'n' })).toEqual({ PATH: '/user/bin:/bin', FOO: 'user', NEW: 'n' });
  });
  it('user env wins over buildpack env for every module, but not with clear-env', () => {
    const base = { FOO: 'from-buildpack', PATH: '/bin' };
    const withUser = moduleExecutionEnv({ base, platformEnv: { FOO: 'user' }, clearEnv: false, cnbVars: { CNB_BUILDPACK_DIR: '/d' } });
    expect(withUser).toEqual({ FOO: 'user', PATH: '/bin', CNB_BUILDPACK_DIR: '/d' });
    const cleared = moduleExecutionEnv({ base, platformEnv: { FOO: 'user' }, clearEnv: true, cnbVars: {} });
    expect(cleared.FOO).toBe('from-buildpack');
    expect(base).toEqual({ FOO: 'from-buildpack', PATH: '/bin' });
  });
  it('build-config env is default-style and applies even with clear-env', () => {
    const env = moduleExecutionEnv({ base: { A: 'x' }, platformEnv: {}, clearEnv: true, buildConfigEnv: [f('A', 'op'), f('B', 'op'), f('C.override', 'o')], cnbVars: {} });
    expect(env).toEqual({ A: 'x', B: 'op', C: 'o' });
  });
});
