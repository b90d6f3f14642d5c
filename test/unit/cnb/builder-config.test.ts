import { describe, expect, it } from 'vitest';
import { parseBuilderConfig } from '../../../src/cnb/builder-config.js';
import { errors, ok, toml, warnings } from './helpers.js';

const F = 'builder.toml';

describe('parseBuilderConfig', () => {
  it('normalises the current pack format', () => {
    const r = parseBuilderConfig(
      toml`
        description = "my builder"
        [[buildpacks]]
        uri = "./bp/node"
        [[buildpacks]]
        id = "example/java"
        version = "1.0.0"
        uri = "docker://example/java:1"
        [[extensions]]
        id = "ext/apt"
        uri = "ext.tgz"
        [[order]]
          [[order.group]]
          id = "example/java"
          [[order.group]]
          id = "example/node"
          version = "2"
          optional = true
        [[order-extensions]]
          [[order-extensions.group]]
          id = "ext/apt"
        [build]
        image = "build:1"
        [[build.env]]
        name = "FOO"
        value = "bar"
        suffix = "append"
        delim = ":"
        [[run.images]]
        image = "run:1"
        mirrors = ["m/run:1"]
        [lifecycle]
        version = "0.20.0"
        [[targets]]
        os = "linux"
        arch = "amd64"
      `,
      F,
    );
    expect(r.issues).toEqual([]);
    const b = ok(r);
    expect(b.description).toBe('my builder');
    expect(b.buildpacks).toEqual([
      { id: '', version: '', uri: './bp/node' },
      { id: 'example/java', version: '1.0.0', uri: 'docker://example/java:1' },
    ]);
    expect(b.extensions).toEqual([{ id: 'ext/apt', version: '', uri: 'ext.tgz' }]);
    expect(b.order).toEqual([
      { group: [{ id: 'example/java', version: '', optional: false }, { id: 'example/node', version: '2', optional: true }] },
    ]);
    expect(b.orderExtensions).toEqual([{ group: [{ id: 'ext/apt', version: '', optional: false }] }]);
    expect(b.buildImage).toBe('build:1');
    expect(b.runImages).toEqual([{ image: 'run:1', mirrors: ['m/run:1'] }]);
    expect(b.buildEnv).toEqual([{ name: 'FOO', value: 'bar', suffix: 'append', delim: ':' }]);
    expect(b.lifecycle).toEqual({ version: '0.20.0' });
    expect(b.targets).toEqual([{ os: 'linux', arch: 'amd64', variant: '', distros: [] }]);
    expect(b.stackId).toBeUndefined();
  });

  it('reads the older [stack] table', () => {
    const b = ok(
      parseBuilderConfig(
        '[stack]\nid = "io.buildpacks.stacks.bionic"\nbuild-image = "b"\nrun-image = "r"\nrun-image-mirrors = ["m"]\n',
        F,
      ),
    );
    expect(b.stackId).toBe('io.buildpacks.stacks.bionic');
    expect(b.buildImage).toBe('b');
    expect(b.runImages).toEqual([{ image: 'r', mirrors: ['m'] }]);
    expect(b.lifecycle).toBeUndefined();
  });

  it('prefers [build]/[[run.images]] over [stack] and warns when they differ', () => {
    const r = parseBuilderConfig('[build]\nimage = "b1"\n[[run.images]]\nimage = "r1"\n[stack]\nid = "s"\nbuild-image = "b2"\nrun-image = "r2"\n', F);
    expect(ok(r).buildImage).toBe('b1');
    expect(ok(r).runImages).toEqual([{ image: 'r1', mirrors: [] }]);
    expect(warnings(r)).toMatchObject([
      { keyPath: 'stack.build-image', line: 7 },
      { keyPath: 'stack.run-image', line: 8 },
    ]);
  });

  it('names the missing build and run image keys', () => {
    const r = parseBuilderConfig('description = "x"\n', F);
    expect(r.value).toBeUndefined();
    expect(errors(r)).toEqual([
      { severity: 'error', file: F, keyPath: 'build.image', message: expect.stringContaining('is required') },
      { severity: 'error', file: F, keyPath: 'run.images', message: expect.stringContaining('is required') },
    ]);
  });

  it('rejects nested order-extensions, entries without uri or id, bad env and bad types', () => {
    const r = parseBuilderConfig(
      toml`
        [[buildpacks]]
        version = "1"
        [[order-extensions]]
          [[order-extensions.group]]
          id = "e"
          group = [{ id = "f" }]
        [build]
        image = "b"
        [[build.env]]
        value = "x"
        suffix = "sideways"
        [[run.images]]
        image = 5
      `,
      F,
    );
    expect(errors(r).map((i) => [i.keyPath, i.line, i.message])).toEqual([
      ['buildpacks[0]', 1, 'needs a uri (or at least an id)'],
      ['order-extensions[0].group[0].group', 6, expect.stringContaining('may not nest')],
      ['build.env[0].name', 9, 'is required'],
      ['build.env[0].suffix', 11, 'must be one of default, override, append, prepend'],
      ['run.images[0].image', 13, 'must be a string, not an integer'],
    ]);
  });

  it('warns about unknown keys and the deprecated image key', () => {
    const r = parseBuilderConfig('[[buildpacks]]\nimage = "x/y"\n[build]\nimage = "b"\nfoo = 1\n[[run.images]]\nimage = "r"\n', F);
    expect(ok(r).buildpacks).toEqual([{ id: '', version: '', uri: 'x/y' }]);
    expect(warnings(r).map((i) => [i.keyPath, i.line])).toEqual([
      ['buildpacks[0].image', 2],
      ['build.foo', 5],
    ]);
  });
});
