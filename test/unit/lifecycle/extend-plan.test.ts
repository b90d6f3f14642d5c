import { describe, expect, it } from 'vitest';
import { addedLayers, buildArgsRecord, checkUsers, extendBuildArgs, isRootUser, labelIsTrue, nextRebasable, splitUser } from '../../../src/lifecycle/extend/plan.js';
import { layerCommands } from '../../../src/lifecycle/extend/extend.js';

describe('extend args', () => {
  it('splits the current User on the first colon', () => {
    expect(splitUser('1000:1000')).toEqual({ userId: '1000', groupId: '1000' });
    expect(splitUser('cnb')).toEqual({ userId: 'cnb', groupId: '' });
    expect(splitUser('')).toEqual({ userId: '', groupId: '' });
    expect(splitUser('a:b:c')).toEqual({ userId: 'a', groupId: 'b:c' });
  });
  it('orders the lifecycle args first, then the extension args', () => {
    const args = extendBuildArgs({ baseImage: 'sha256:abc', buildId: 'uuid-1', user: '1001:1000', extensionArgs: [{ name: 'tool', value: 'v1' }, { name: 'x', value: '' }] });
    expect(args.map((a) => a.name)).toEqual(['base_image', 'build_id', 'user_id', 'group_id', 'tool', 'x']);
    expect(buildArgsRecord(args)).toEqual({ base_image: 'sha256:abc', build_id: 'uuid-1', user_id: '1001', group_id: '1000', tool: 'v1', x: '' });
  });
  it('a later duplicate wins in the record', () => {
    expect(buildArgsRecord([{ name: 'a', value: '1' }, { name: 'a', value: '2' }])).toEqual({ a: '2' });
  });
});

describe('user rules', () => {
  it('recognises root', () => {
    for (const u of ['', '0', 'root', '0:0', 'root:root', ' 0:1000']) expect(isRootUser(u)).toBe(true);
    for (const u of ['1000', '1000:0', 'cnb', 'rooty']) expect(isRootUser(u)).toBe(false);
  });
  it('final run image as root is an error; an intermediate root only warns', () => {
    expect(checkUsers('run', '1001:1000', [{ extensionId: 'a', user: 'root' }]).error).toMatch(/left as root is refused/);
    const ok = checkUsers('run', '1001:1000', [{ extensionId: 'a', user: 'root' }, { extensionId: 'b', user: '1001:1000' }]);
    expect(ok.error).toBeUndefined();
    expect(ok.warnings).toHaveLength(1);
  });
  it('build kind only warns; a changed user warns', () => {
    const b = checkUsers('build', '1000:1000', [{ extensionId: 'a', user: '0' }]);
    expect(b.error).toBeUndefined();
    expect(b.warnings.length).toBe(2);
    expect(checkUsers('run', '1001:1000', [{ extensionId: 'a', user: '1002' }]).warnings[0]).toMatch(/changed/);
    expect(checkUsers('run', '1001:1000', [])).toEqual({ warnings: [] });
  });
});

describe('rebasable', () => {
  it('parses like Go ParseBool', () => {
    expect(['1', 't', 'TRUE', 'true', 'True'].every(labelIsTrue)).toBe(true);
    expect([undefined, '', 'yes', 'false', 'tRUE'].some(labelIsTrue)).toBe(false);
  });
  it('starts true and ANDs the label of each result', () => {
    let r = true;
    r = nextRebasable(r, { 'io.buildpacks.rebasable': 'true' });
    expect(r).toBe(true);
    r = nextRebasable(r, {});
    expect(r).toBe(false);
    expect(nextRebasable(r, { 'io.buildpacks.rebasable': 'true' })).toBe(false);
  });
});

describe('addedLayers', () => {
  it('gives the layers above a prefix', () => {
    expect(addedLayers(['a', 'b'], ['a', 'b', 'c'])).toEqual(['c']);
    expect(addedLayers(['a'], ['a'])).toEqual([]);
    expect(addedLayers(['a', 'b'], ['a', 'x', 'c'])).toBeUndefined();
  });
});

describe('layerCommands', () => {
  it('matches RUN/COPY/ADD to layers when the counts agree, else describes them', () => {
    const df = 'ARG base_image\nFROM ${base_image}\nUSER root\nRUN apt-get \\\n  install x\nCOPY a /a\nUSER 1000\n';
    expect(layerCommands(df, 2, 'run.Dockerfile of e')).toEqual(['RUN apt-get   install x', 'COPY a /a']);
    expect(layerCommands(df, 3, 'run.Dockerfile of e')).toEqual(['layer 1 of 3 from the run.Dockerfile of e', 'layer 2 of 3 from the run.Dockerfile of e', 'layer 3 of 3 from the run.Dockerfile of e']);
  });
});
