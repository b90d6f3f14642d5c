import { describe, expect, it } from 'vitest';
import { allowedOuterEnv, moduleArgs, moduleCnbVars, moduleCommand, parseImageEnv, PRELUDE_SCRIPT } from '../../../src/lifecycle/container/module-env.js';

const base = { moduleDir: '/cnb/buildpacks/a/1', platformDir: '/platform', planPath: '/kiln/plan.toml' };

describe('allowedOuterEnv', () => {
  it('keeps only the allow-list of the image env', () => {
    const env = allowedOuterEnv(['PATH=/bin', 'FOO=bar', 'CNB_USER_ID=1000', 'HOME=/home/cnb', 'http_proxy=x', 'CNB_STACK_ID=s', 'LD_LIBRARY_PATH=/lib', 'CNB_PLATFORM_API=0.13']);
    expect(env).toEqual({ PATH: '/bin', HOME: '/home/cnb', http_proxy: 'x', CNB_STACK_ID: 's', LD_LIBRARY_PATH: '/lib' });
  });
  it('parses values containing = and lets later duplicates win', () => {
    expect(parseImageEnv(['A=b=c', 'A=d=e', 'bad'])).toEqual({ A: 'd=e' });
  });
});

describe('moduleCnbVars (the CNB_* vars each Buildpack API gives)', () => {
  it('detect at API 0.7 gets only CNB_BUILDPACK_DIR', () => {
    expect(moduleCnbVars({ ...base, phase: 'detect', kind: 'buildpack', api: '0.7' })).toEqual({ CNB_BUILDPACK_DIR: '/cnb/buildpacks/a/1' });
  });
  it('detect at 0.8 adds platform dir and build plan path', () => {
    expect(moduleCnbVars({ ...base, phase: 'detect', kind: 'buildpack', api: '0.8' })).toEqual({
      CNB_BUILDPACK_DIR: '/cnb/buildpacks/a/1',
      CNB_PLATFORM_DIR: '/platform',
      CNB_BUILD_PLAN_PATH: '/kiln/plan.toml',
    });
  });
  it('extension detect uses CNB_EXTENSION_DIR', () => {
    const v = moduleCnbVars({ ...base, phase: 'detect', kind: 'extension', api: '0.9' });
    expect(v.CNB_EXTENSION_DIR).toBe('/cnb/buildpacks/a/1');
    expect(v.CNB_BUILDPACK_DIR).toBeUndefined();
  });
  it('build at 0.10 has layers dir, bp plan path and target vars but no exec env', () => {
    const v = moduleCnbVars({ ...base, phase: 'build', kind: 'buildpack', api: '0.10', layersDir: '/layers/a', target: { os: 'linux', arch: 'amd64', distroName: 'busybox', distroVersion: '1.36' } });
    expect(v).toEqual({
      CNB_BUILDPACK_DIR: '/cnb/buildpacks/a/1',
      CNB_PLATFORM_DIR: '/platform',
      CNB_BP_PLAN_PATH: '/kiln/plan.toml',
      CNB_LAYERS_DIR: '/layers/a',
      CNB_TARGET_OS: 'linux',
      CNB_TARGET_ARCH: 'amd64',
      CNB_TARGET_DISTRO_NAME: 'busybox',
      CNB_TARGET_DISTRO_VERSION: '1.36',
    });
  });
  it('0.12 adds CNB_EXEC_ENV for detect and build, not generate', () => {
    expect(moduleCnbVars({ ...base, phase: 'build', kind: 'buildpack', api: '0.12', layersDir: '/l' }).CNB_EXEC_ENV).toBe('production');
    expect(moduleCnbVars({ ...base, phase: 'detect', kind: 'buildpack', api: '0.12', execEnv: 'test' }).CNB_EXEC_ENV).toBe('test');
    expect(moduleCnbVars({ ...base, phase: 'generate', kind: 'extension', api: '0.12', outputDir: '/o' }).CNB_EXEC_ENV).toBeUndefined();
  });
  it('generate has output dir and bp plan path', () => {
    const v = moduleCnbVars({ ...base, phase: 'generate', kind: 'extension', api: '0.9', outputDir: '/out' });
    expect(v.CNB_OUTPUT_DIR).toBe('/out');
    expect(v.CNB_BP_PLAN_PATH).toBe('/kiln/plan.toml');
    expect(v.CNB_TARGET_OS).toBeUndefined();
  });
});

describe('moduleArgs and moduleCommand', () => {
  it('positional args per phase', () => {
    expect(moduleArgs('detect', { platformDir: '/p', planPath: '/x' })).toEqual(['/p', '/x']);
    expect(moduleArgs('build', { platformDir: '/p', planPath: '/x', layersDir: '/l/a' })).toEqual(['/l/a', '/p', '/x']);
    expect(moduleArgs('generate', { platformDir: '/p', planPath: '/x', outputDir: '/o' })).toEqual(['/o', '/p', '/x']);
  });
  it('unsets image variables the module must not see', () => {
    expect(moduleCommand(['PATH=/bin', 'FOO=1', 'CNB_USER_ID=1'], { PATH: '/bin' }, '/cnb/bp/bin/detect', ['/p', '/x'])).toEqual([
      'env', '-u', 'CNB_USER_ID', '-u', 'FOO', '/cnb/bp/bin/detect', '/p', '/x',
    ]);
  });
  it('runs the executable directly when nothing needs unsetting', () => {
    expect(moduleCommand(['PATH=/bin'], { PATH: '/x' }, '/e', [])).toEqual(['/e']);
    expect(moduleCommand(['PATH=/bin'], { PATH: '/x' }, '/e', [], { dirs: [], files: [] })).toEqual(['/e']);
  });
  it('a prelude runs in sh first; the shell\'s own variables are dropped, or set again when the env has them', () => {
    const cmd = moduleCommand(['PATH=/bin'], { PATH: '/bin', PWD: '/mine' }, '/e', ['a'], { dirs: ["/k/it's"], files: [{ path: '/k/p.toml', content: "x = '%s'\n", mode: 0o444 }] });
    expect(cmd.slice(0, 2)).toEqual(['sh', '-c']);
    expect(cmd[2]).toBe(PRELUDE_SCRIPT);
    expect(cmd.slice(3)).toEqual(['kiln-prelude', '1', "/k/it's", '1', '/k/p.toml', '444', "x = '%s'\n", '', 'env', '-u', 'OLDPWD', '-u', 'SHLVL', '-u', '_', 'PWD=/mine', '/e', 'a']);
  });
});
