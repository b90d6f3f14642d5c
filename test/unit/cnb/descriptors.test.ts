import { describe, expect, it } from 'vitest';
import { isComposite, parseBuildpackDescriptor } from '../../../src/cnb/buildpack-descriptor.js';
import { parseExtensionDescriptor } from '../../../src/cnb/extension-descriptor.js';
import { errors, ok, toml, warnings } from './helpers.js';

const F = 'buildpack.toml';

describe('parseBuildpackDescriptor', () => {
  it('normalises a full component buildpack', () => {
    const d = ok(
      parseBuildpackDescriptor(
        toml`
          api = "0.12"
          [buildpack]
          id = "example/node"
          version = "1.2.3"
          name = "Node"
          homepage = "https://example.com"
          description = "d"
          keywords = ["k"]
          clear-env = true
          sbom-formats = ["application/vnd.cyclonedx+json"]
          exec-env = ["production", "test"]
          [[buildpack.licenses]]
          type = "MIT"
          [[targets]]
          os = "linux"
          arch = "arm64"
          arch-variant = "v8"
          [[targets.distros]]
          name = "ubuntu"
          version = "22.04"
          [metadata]
          x = { y = 1 }
        `,
        F,
      ),
    );
    expect(d.kind).toBe('buildpack');
    expect(d.api).toBe('0.12');
    expect(d.id).toBe('example/node');
    expect(d.version).toBe('1.2.3');
    expect(d.name).toBe('Node');
    expect(d.homepage).toBe('https://example.com');
    expect(d.description).toBe('d');
    expect(d.keywords).toEqual(['k']);
    expect(d.clearEnv).toBe(true);
    expect(d.sbomFormats).toEqual(['application/vnd.cyclonedx+json']);
    expect(d.execEnv).toEqual(['production', 'test']);
    expect(d.licenses).toEqual([{ type: 'MIT', uri: '' }]);
    expect(d.targets).toEqual([{ os: 'linux', arch: 'arm64', variant: 'v8', distros: [{ name: 'ubuntu', version: '22.04' }] }]);
    expect(d.metadata).toEqual({ x: { y: 1 } });
    expect(d.order).toEqual([]);
    expect(d.stacks).toEqual([]);
    expect(isComposite(d)).toBe(false);
  });

  it('applies defaults for a minimal buildpack', () => {
    const r = parseBuildpackDescriptor('api = "0.7"\n[buildpack]\nid = "a"\nversion = "1"\n', F);
    expect(r.issues).toEqual([]);
    const d = ok(r);
    expect([d.name, d.homepage, d.description, d.clearEnv, d.keywords, d.execEnv, d.targets, d.metadata]).toEqual([
      '', '', '', false, [], [], [], {},
    ]);
  });

  it('gives a buildpack with bin/build and no targets the linux target', () => {
    const d = ok(parseBuildpackDescriptor('api = "0.10"\n[buildpack]\nid = "a"\nversion = "1"\n', F, { hasExecutables: true }));
    expect(d.targets).toEqual([{ os: 'linux', arch: '', variant: '', distros: [] }]);
  });

  it('translates stacks into targets', () => {
    const d = ok(
      parseBuildpackDescriptor(
        'api = "0.10"\n[buildpack]\nid = "a"\nversion = "1"\n[[stacks]]\nid = "io.buildpacks.stacks.bionic"\n[[stacks]]\nid = "*"\n',
        F,
      ),
    );
    expect(d.stacks).toEqual([
      { id: 'io.buildpacks.stacks.bionic', mixins: [] },
      { id: '*', mixins: [] },
    ]);
    expect(d.targets).toEqual([
      { os: 'linux', arch: 'amd64', variant: '', distros: [{ name: 'ubuntu', version: '18.04' }] },
      { os: '', arch: '', variant: '', distros: [] },
    ]);
    // Before 0.10 bionic only counts when it is the only stack.
    const old = ok(
      parseBuildpackDescriptor('api = "0.9"\n[buildpack]\nid = "a"\nversion = "1"\n[[stacks]]\nid = "io.buildpacks.stacks.bionic"\n[[stacks]]\nid = "other"\n', F),
    );
    expect(old.targets).toEqual([]);
  });

  it('prefers variant over arch-variant and accepts [[buildpack.exec-env]] tables', () => {
    const r = parseBuildpackDescriptor(
      toml`
        api = "0.12"
        [buildpack]
        id = "a"
        version = "1"
        [[buildpack.exec-env]]
        name = "test"
        [[targets]]
        os = "linux"
        variant = "v7"
        arch-variant = "v6"
      `,
      F,
    );
    const d = ok(r);
    expect(d.execEnv).toEqual(['test']);
    expect(d.targets[0]?.variant).toBe('v7');
    expect(warnings(r)).toMatchObject([{ keyPath: 'targets[0].arch-variant', line: 10 }]);
  });

  it('reads a composite order', () => {
    const d = ok(
      parseBuildpackDescriptor(
        toml`
          api = "0.12"
          [buildpack]
          id = "meta"
          version = "1"
          [[order]]
          [[order.group]]
          id = "a"
          version = "1"
          exec-env = ["x"]
          [[order.group]]
          id = "b"
          version = "2"
          optional = true
        `,
        F,
      ),
    );
    expect(isComposite(d)).toBe(true);
    expect(d.order).toEqual([
      { group: [{ id: 'a', version: '1', optional: false }, { id: 'b', version: '2', optional: true }] },
    ]);
  });

  it('reports bad ids, reserved ids, missing keys and unsupported APIs with lines', () => {
    const r = parseBuildpackDescriptor('api = "0.6"\n[buildpack]\nid = "config"\n', F);
    expect(errors(r)).toEqual([
      { severity: 'error', file: F, keyPath: 'api', line: 1, code: 'unsupported-buildpack-api', message: 'Buildpack API 0.6 is not supported (supported: 0.7, 0.8, 0.9, 0.10, 0.11, 0.12)' },
      { severity: 'error', file: F, keyPath: 'buildpack.id', line: 3, message: expect.stringContaining('"config" is reserved') },
      { severity: 'error', file: F, keyPath: 'buildpack.version', line: 2, message: 'is required' },
    ]);
    const bad = parseBuildpackDescriptor('api = "0.12"\n[buildpack]\nid = "a_b"\nversion = "1"\n', F);
    expect(errors(bad)).toMatchObject([{ keyPath: 'buildpack.id', line: 3, message: expect.stringContaining('not a valid ID') }]);
    expect(errors(parseBuildpackDescriptor('api = 0.12\n', F))).toMatchObject([
      { keyPath: 'api', line: 1, message: 'must be a string, not a float' },
      { keyPath: 'buildpack', message: 'is required' },
    ]);
    expect(errors(parseBuildpackDescriptor('api = "zero"\n[buildpack]\nid="a"\nversion="1"', F))).toMatchObject([
      { keyPath: 'api', message: expect.stringContaining('not an API version') },
    ]);
  });

  it('rejects a composite with stacks and an order group without id', () => {
    const r = parseBuildpackDescriptor(
      'api = "0.12"\n[buildpack]\nid = "m"\nversion = "1"\n[[order]]\n[[order.group]]\nversion = "1"\n[[stacks]]\nid = "s"\n',
      F,
    );
    expect(errors(r)).toMatchObject([
      { keyPath: 'order[0].group[0].id', line: 6, message: 'is required' },
      { keyPath: 'stacks', line: 8, message: expect.stringContaining('must not declare [[stacks]]') },
    ]);
  });

  it('reports only the missing table when [buildpack] is absent', () => {
    const r = parseBuildpackDescriptor('api = "0.12"\n[[targets]]\nos = "linux"\n', F);
    expect(r.issues).toEqual([{ severity: 'error', file: F, keyPath: 'buildpack', message: 'is required' }]);
  });

  it('warns about unknown keys at every level', () => {
    const r = parseBuildpackDescriptor('api = "0.12"\nfoo = 1\n[buildpack]\nid = "a"\nversion = "1"\nbar = 2\n[[targets]]\nos = "linux"\nbaz = 3\n', F);
    expect(r.value).toBeDefined();
    expect(warnings(r).map((i) => [i.keyPath, i.line])).toEqual([
      ['buildpack.bar', 6],
      ['targets[0].baz', 9],
      ['foo', 2],
    ]);
  });
});

describe('parseExtensionDescriptor', () => {
  const E = 'extension.toml';
  it('normalises an extension', () => {
    const d = ok(
      parseExtensionDescriptor(
        'api = "0.10"\n[extension]\nid = "ext/apt"\nversion = "0.1.0"\nname = "Apt"\n[[extension.licenses]]\nuri = "u"\n[[targets]]\nos = "linux"\narch = "amd64"\n',
        E,
      ),
    );
    expect(d).toEqual({
      kind: 'extension',
      api: '0.10',
      id: 'ext/apt',
      version: '0.1.0',
      name: 'Apt',
      homepage: '',
      description: '',
      keywords: [],
      licenses: [{ type: '', uri: 'u' }],
      targets: [{ os: 'linux', arch: 'amd64', variant: '', distros: [] }],
      metadata: {},
    });
  });

  it('defaults the target from executables', () => {
    const base = 'api = "0.12"\n[extension]\nid = "e"\nversion = "1"\n';
    expect(ok(parseExtensionDescriptor(base, E)).targets).toEqual([]);
    expect(ok(parseExtensionDescriptor(base, E, { hasExecutables: true })).targets).toEqual([{ os: 'linux', arch: '', variant: '', distros: [] }]);
  });

  it('rejects [[order]] and warns about sbom-formats; an API older than 0.9 is accepted as the lifecycle does', () => {
    const r = parseExtensionDescriptor(
      'api = "0.8"\n[extension]\nid = "e"\nversion = "1"\nsbom-formats = []\n[[order]]\n[[order.group]]\nid = "x"\nversion = "1"\n',
      E,
    );
    expect(errors(r)).toMatchObject([{ keyPath: 'order', line: 6, message: expect.stringContaining('must not declare [[order]]') }]);
    expect(warnings(r).map((i) => i.keyPath)).toEqual(['extension.sbom-formats']);
    expect(ok(parseExtensionDescriptor('api = "0.7"\n[extension]\nid = "e"\nversion = "1"\n', E)).api).toBe('0.7');
  });
});
