import { describe, expect, it } from 'vitest';
import { chooseModules, composeOrder, flagLocator, FROM_BUILDER } from '../../../src/app/module-choice.js';
import type { ModuleRef, OrderFile, ProjectDescriptor } from '../../../src/cnb/models.js';

const ref = (id: string, version = '1'): ModuleRef => ({ id, version, optional: false });
const base: OrderFile = { order: [{ group: [ref('a')] }, { group: [ref('b')] }], orderExtensions: [{ group: [ref('x')] }] };
const project = (p: Partial<ProjectDescriptor>): ProjectDescriptor => ({ schemaVersion: '0.2', id: '', name: '', version: '', include: [], exclude: [], buildEnv: [], group: [], metadata: {}, ...p });
const none = (): boolean => false;

describe('composeOrder (pack build --buildpack / --extension / --pre-buildpack / --post-buildpack)', () => {
  it('keeps the builder order when nothing is chosen', () => {
    expect(composeOrder(base, { group: [], pre: [], post: [], extensions: [] })).toEqual(base);
  });

  it('replaces the order with one group of the chosen buildpacks', () => {
    expect(composeOrder(base, { group: [ref('c'), ref('d')], pre: [], post: [], extensions: [] }).order).toEqual([{ group: [ref('c'), ref('d')] }]);
  });

  it('from=builder stands for every builder group, with the others around it', () => {
    expect(composeOrder(base, { group: [ref('c'), FROM_BUILDER, ref('d')], pre: [], post: [], extensions: [] }).order).toEqual([
      { group: [ref('c'), ref('a'), ref('d')] },
      { group: [ref('c'), ref('b'), ref('d')] },
    ]);
  });

  it('puts pre and post buildpacks around every group', () => {
    expect(composeOrder(base, { group: [], pre: [ref('p')], post: [ref('q')], extensions: [] }).order).toEqual([
      { group: [ref('p'), ref('a'), ref('q')] },
      { group: [ref('p'), ref('b'), ref('q')] },
    ]);
  });

  it('prepends each extension into one order-extensions group (the last given runs first, as pack)', () => {
    expect(composeOrder(base, { group: [], pre: [], post: [], extensions: [ref('e1'), ref('e2')] }).orderExtensions).toEqual([{ group: [ref('e2'), ref('e1')] }]);
  });
});

describe('flagLocator', () => {
  it('reads docker:// and existing paths, takes id@version as a module id, a bare word as id or image', () => {
    expect(flagLocator('docker://example/bp:1', '--buildpack', 'buildpack', '/cwd', none)).toMatchObject({ uri: 'docker://example/bp:1' });
    expect(flagLocator('./bp', '--buildpack', 'buildpack', '/cwd', (p) => p === '/cwd/bp')).toMatchObject({ uri: './bp', baseDir: '/cwd' });
    const byId = flagLocator('acme/node@1.2.3', '--buildpack', 'buildpack', '/cwd', none);
    expect(byId).toMatchObject({ ref: { id: 'acme/node', version: '1.2.3' }, where: '--buildpack acme/node@1.2.3' });
    expect(byId.uri).toBeUndefined();
    expect(flagLocator('acme-node', '--extension', 'extension', '/cwd', none)).toMatchObject({ kind: 'extension', ref: { id: 'acme-node', version: '' }, uri: 'acme-node' });
    expect(flagLocator(FROM_BUILDER, '--buildpack', 'buildpack', '/cwd', none).fromBuilder).toBe(true);
  });
});

describe('chooseModules', () => {
  const p = project({ group: [{ ...ref('g'), uri: '../bp' }], preGroup: [ref('pre')], postGroup: [{ id: 'in', version: '', optional: false, script: { api: '0.10', inline: 'echo', shell: '/bin/sh' } }] });

  it('takes project.toml groups, relative to project.toml, named by key path and what the entry says', () => {
    const c = chooseModules({}, p, '/app/project.toml', '/cwd', none);
    expect(c.group).toEqual([{ kind: 'buildpack', where: '/app/project.toml io.buildpacks.group[0] (uri "../bp")', baseDir: '/app', uri: '../bp', ref: { id: 'g', version: '1' } }]);
    expect(c.pre[0]?.where).toBe('/app/project.toml io.buildpacks.pre.group[0] (id "pre" version "1")');
    expect(c.post[0]?.inline?.id).toBe('in');
  });

  it('names legacy 0.1 entries by their [build] key path', () => {
    const c = chooseModules({}, { ...p, schemaVersion: '0.1' }, '/app/project.toml', '/cwd', none);
    expect(c.group[0]?.where).toContain('build.buildpacks[0]');
    expect(c.pre[0]?.where).toContain('build.pre.group[0]');
  });

  it('lets each flag replace its project.toml counterpart only', () => {
    const c = chooseModules({ buildpacks: ['x@1'], postBuildpacks: ['y@1'] }, p, '/app/project.toml', '/cwd', none);
    expect(c.group.map((l) => l.where)).toEqual(['--buildpack x@1']);
    expect(c.pre.map((l) => l.ref?.id)).toEqual(['pre']);
    expect(c.post.map((l) => l.where)).toEqual(['--post-buildpack y@1']);
  });
});
