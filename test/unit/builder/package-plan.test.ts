import { describe, expect, it } from 'vitest';
import type { ModuleSource } from '../../../src/builder/module-source.js';
import { planPackage } from '../../../src/builder/package-plan.js';
import type { ModuleKind } from '../../../src/cnb/models.js';

const bp = (id: string, version: string, extra = ''): string => `api = "0.10"\n[buildpack]\nid = "${id}"\nversion = "${version}"\n${extra}`;
const META = bp('t/meta', '1', '[[order]]\n[[order.group]]\nid = "t/a"\nversion = "1"\n[[order.group]]\nid = "t/b"\nversion = "2"\n');

function source(keyPath: string, uri: string, text: string, over: Partial<ModuleSource> = {}, kind: ModuleKind = 'buildpack'): ModuleSource {
  const composite = text.includes('[[order]]');
  return {
    kind,
    entry: { id: '', version: '', uri },
    index: 0,
    dir: `/m/${uri}`,
    descriptorFile: `${uri}/${kind}.toml`,
    descriptorText: text,
    hasDetect: !composite,
    hasBuild: !composite && kind === 'buildpack',
    hasGenerate: kind === 'extension',
    hasGenerateDir: false,
    contentDigest: `sha256:${uri}`,
    keyPath,
    main: true,
    ...over,
  };
}

describe('planPackage', () => {
  it('plans a composite and its dependencies, one module each, sorted; the main one is the package\'s', () => {
    const r = planPackage({
      kind: 'buildpack',
      configFile: 'package.toml',
      sources: [source('buildpack', 'meta', META), source('dependencies[0]', 'b.cnb', bp('t/b', '2')), source('dependencies[0]', 'b.cnb', bp('t/a', '1'), { main: false }), source('dependencies[1]', 'a', bp('t/a', '1'), { dir: '/m/b.cnb' , contentDigest: 'sha256:b.cnb' })],
    });
    expect(r.issues).toEqual([]);
    expect(r.plan?.main.descriptor.id).toBe('t/meta');
    expect(r.plan?.modules.map((m) => `${m.descriptor.id}@${m.descriptor.version}`)).toEqual(['t/a@1', 't/b@2', 't/meta@1']);
  });

  it('names package.toml and the entry for a missing member, a clash and a package without a main module', () => {
    const missing = planPackage({ kind: 'buildpack', configFile: 'package.toml', sources: [source('buildpack', 'meta', META), source('dependencies[0]', 'a', bp('t/a', '1'))] });
    expect(missing.issues.map((i) => i.message)).toEqual(['t/b@2 (in composite t/meta@1) is not provided by package.toml (its buildpack uri or any [[dependencies]] entry)']);
    const clash = planPackage({ kind: 'buildpack', configFile: 'package.toml', sources: [source('buildpack', 'a', bp('t/a', '1')), source('dependencies[0]', 'a2', bp('t/a', '1'))] });
    expect(clash.issues.map((i) => `${i.file} ${i.keyPath}: ${i.message}`)).toEqual(['package.toml dependencies[0].uri: t/a@1 is given twice with different content (a/buildpack.toml and a2/buildpack.toml)']);
    const noMain = planPackage({ kind: 'buildpack', configFile: 'package.toml', sources: [source('buildpack', 'x.cnb', bp('t/a', '1'), { main: false })] });
    expect(noMain.issues[0]?.message).toMatch(/holds several buildpacks and does not say which one is its own/);
  });

  it('a directory package (--path) names the flag and says how to add members', () => {
    const r = planPackage({ kind: 'buildpack', configFile: '/src/meta', sources: [source('--path', '/src/meta', META)] });
    expect(r.issues[0]?.message).toMatch(/is not provided by the package: give a composite its members as \[\[dependencies\]\] of a package.toml/);
    const empty = planPackage({ kind: 'buildpack', configFile: '/src/x', sources: [source('--path', '/src/x', '', { descriptorText: undefined })] });
    expect(empty.issues.map((i) => `${i.keyPath}: ${i.message}`)).toEqual(['--path: /src/x has no buildpack.toml']);
  });

  it('an extension package holds one extension', () => {
    const ext = (id: string): string => `api = "0.10"\n[extension]\nid = "${id}"\nversion = "1"\n`;
    const ok = planPackage({ kind: 'extension', configFile: 'package.toml', sources: [source('extension', 'x', ext('t/x'), {}, 'extension')] });
    expect(ok.plan?.modules.length).toBe(1);
    const two = planPackage({ kind: 'extension', configFile: 'package.toml', sources: [source('extension', 'x.cnb', ext('t/x'), {}, 'extension'), source('extension', 'x.cnb', ext('t/y'), { main: false, dir: '/m/y' }, 'extension')] });
    expect(two.issues[0]?.message).toMatch(/an extension package holds one extension; x.cnb gave t\/x@1, t\/y@1/);
  });
});
