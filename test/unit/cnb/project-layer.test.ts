import { describe, expect, it } from 'vitest';
import { isForbiddenLayerName, parseLayerMetadata } from '../../../src/cnb/layer-metadata.js';
import { parseProjectDescriptor } from '../../../src/cnb/project-descriptor.js';
import { errors, ok, toml, warnings } from './helpers.js';

const P = 'project.toml';

describe('parseProjectDescriptor', () => {
  it('normalises a 0.2 descriptor and ignores other tools\' tables', () => {
    const r = parseProjectDescriptor(
      toml`
        [_]
        schema-version = "0.2"
        id = "io.example.app"
        name = "App"
        version = "1.0.0"
        authors = ["me"]
        [_.metadata]
        team = "x"
        [io.buildpacks]
        builder = "kiln/builder:base"
        exclude = ["*.log"]
        [[io.buildpacks.group]]
        id = "example/node"
        version = "1.0.0"
        [[io.buildpacks.group]]
        uri = "./local-bp"
        [[io.buildpacks.pre.group]]
        id = "pre/bp"
        [[io.buildpacks.build.env]]
        name = "FOO"
        value = "bar"
        [com.other.tool]
        x = 1
      `,
      P,
    );
    expect(r.issues).toEqual([]);
    const p = ok(r);
    expect(p.schemaVersion).toBe('0.2');
    expect(p.id).toBe('io.example.app');
    expect(p.name).toBe('App');
    expect(p.version).toBe('1.0.0');
    expect(p.metadata).toEqual({ team: 'x' });
    expect(p.builder).toBe('kiln/builder:base');
    expect(p.include).toEqual([]);
    expect(p.exclude).toEqual(['*.log']);
    expect(p.group).toEqual([
      { id: 'example/node', version: '1.0.0', optional: false },
      { id: '', version: '', optional: false, uri: './local-bp' },
    ]);
    expect(p.preGroup).toEqual([{ id: 'pre/bp', version: '', optional: false }]);
    expect(p.postGroup).toBeUndefined();
    expect(p.buildEnv).toEqual([{ name: 'FOO', value: 'bar' }]);
  });

  it('gives an empty descriptor for an empty file', () => {
    const p = ok(parseProjectDescriptor('', P));
    expect(p).toEqual({ schemaVersion: '0.2', id: '', name: '', version: '', include: [], exclude: [], buildEnv: [], group: [], metadata: {} });
  });

  it('rejects include with exclude, unknown schema versions and inline buildpacks', () => {
    const r = parseProjectDescriptor(
      '[_]\nschema-version = "0.3"\n[io.buildpacks]\ninclude = ["a"]\nexclude = ["b"]\n[[io.buildpacks.group]]\nscript = { api = "0.10", inline = "x" }\n',
      P,
    );
    expect(errors(r).map((i) => [i.keyPath, i.line])).toEqual([
      ['_.schema-version', 2],
      ['io.buildpacks.exclude', 5],
      ['io.buildpacks.group[0].script', 7],
    ]);
  });

  it('warns about unknown keys in [_] and [io.buildpacks]', () => {
    const r = parseProjectDescriptor('[_]\nschema-version = "0.2"\nfoo = 1\n[io.buildpacks]\nbar = 2\n', P);
    expect(warnings(r).map((i) => [i.keyPath, i.line])).toEqual([
      ['_.foo', 3],
      ['io.buildpacks.bar', 5],
    ]);
  });

  it('accepts the legacy 0.1 shape with a warning', () => {
    const r = parseProjectDescriptor(
      '[project]\nid = "app"\nversion = "2"\n[build]\ninclude = ["src"]\n[[build.buildpacks]]\nid = "a"\nversion = "1"\n[[build.env]]\nname = "X"\nvalue = "y"\n[metadata]\nk = "v"\n',
      P,
    );
    const p = ok(r);
    expect(p.schemaVersion).toBe('0.1');
    expect(p.id).toBe('app');
    expect(p.version).toBe('2');
    expect(p.include).toEqual(['src']);
    expect(p.group).toEqual([{ id: 'a', version: '1', optional: false }]);
    expect(p.buildEnv).toEqual([{ name: 'X', value: 'y' }]);
    expect(p.metadata).toEqual({ k: 'v' });
    expect(warnings(r)).toMatchObject([{ keyPath: '', message: expect.stringContaining('legacy project descriptor 0.1') }]);
  });
});

describe('parseLayerMetadata', () => {
  const L = 'node.toml';
  it('reads types and metadata', () => {
    const l = ok(parseLayerMetadata('[types]\nlaunch = true\ncache = true\n[metadata]\nsha = "abc"\n', L));
    expect(l).toEqual({ types: { launch: true, build: false, cache: true }, metadata: { sha: 'abc' } });
  });

  it('treats a missing [types] as all false', () => {
    expect(ok(parseLayerMetadata('[metadata]\nx = 1\n', L))).toEqual({ types: { launch: false, build: false, cache: false }, metadata: { x: 1 } });
    expect(ok(parseLayerMetadata('', L))).toEqual({ types: { launch: false, build: false, cache: false }, metadata: {} });
  });

  it('rejects top-level types (edge case 37) and non-boolean types', () => {
    const r = parseLayerMetadata('launch = true\n[types]\nbuild = "yes"\n', L);
    expect(errors(r)).toEqual([
      { severity: 'error', file: L, keyPath: 'launch', line: 1, message: expect.stringContaining('must be under [types]') },
      { severity: 'error', file: L, keyPath: 'types.build', line: 3, message: 'must be a boolean, not a string' },
    ]);
  });

  it('knows the forbidden layer names', () => {
    expect(['build', 'launch', 'store', 'node'].map(isForbiddenLayerName)).toEqual([true, true, true, false]);
  });

  it('warns about unknown keys', () => {
    expect(warnings(parseLayerMetadata('[types]\nlaunch = true\nfoo = true\n', L))).toMatchObject([{ keyPath: 'types.foo', line: 3 }]);
  });
});

describe('parseProjectDescriptor: groups by uri, inline buildpacks, source-url', () => {
  it('reads inline scripts with their shell (default /bin/sh) and source-url', () => {
    const p = ok(
      parseProjectDescriptor(
        '[_]\nschema-version = "0.2"\nsource-url = "https://example.com/x.git"\n[[io.buildpacks.group]]\nid = "me/inline"\n[io.buildpacks.group.script]\napi = "0.10"\ninline = "echo hi"\n[[io.buildpacks.group]]\nid = "me/bash"\n[io.buildpacks.group.script]\napi = "0.10"\ninline = "echo"\nshell = "/bin/bash"\n',
        P,
      ),
    );
    expect(p.sourceUrl).toBe('https://example.com/x.git');
    expect(p.group.map((g) => g.script)).toEqual([
      { api: '0.10', inline: 'echo hi', shell: '/bin/sh' },
      { api: '0.10', inline: 'echo', shell: '/bin/bash' },
    ]);
  });

  it('refuses an inline script without id, with a uri, without api/inline, or with a shell that is no absolute path', () => {
    const r = parseProjectDescriptor(
      '[[io.buildpacks.group]]\nuri = "./x"\nid = "a"\nscript = { api = "0.10", inline = "x" }\n[[io.buildpacks.group]]\nid = "b"\nscript = { inline = "x", shell = "sh -c" }\n',
      P,
    );
    expect(errors(r).map((i) => i.keyPath)).toEqual(['io.buildpacks.group[0].script', 'io.buildpacks.group[1].script.api', 'io.buildpacks.group[1].script.shell']);
  });

  it('reads the legacy [build] pre/post groups and source-url', () => {
    const p = ok(parseProjectDescriptor('[project]\nsource-url = "u"\n[[build.pre.group]]\nuri = "./pre"\n[[build.post.group]]\nid = "post"\n', P));
    expect(p.sourceUrl).toBe('u');
    expect(p.preGroup).toEqual([{ id: '', version: '', optional: false, uri: './pre' }]);
    expect(p.postGroup).toEqual([{ id: 'post', version: '', optional: false }]);
  });
});
