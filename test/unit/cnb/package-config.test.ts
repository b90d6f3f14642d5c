import { describe, expect, it } from 'vitest';
import { parsePackageConfig } from '../../../src/cnb/package-config.js';

const errors = (text: string, kind: 'buildpack' | 'extension' = 'buildpack'): string[] =>
  parsePackageConfig(text, 'package.toml', kind).issues.filter((i) => i.severity === 'error').map((i) => `${i.keyPath}: ${i.message}`);

describe('parsePackageConfig (package.toml)', () => {
  it('reads the module uri, dependencies (image = becomes docker://) and platform.os', () => {
    const r = parsePackageConfig('[buildpack]\nuri = "meta"\n[[dependencies]]\nuri = "a.tgz"\n[[dependencies]]\nimage = "reg/bp:1"\n[platform]\nos = "linux"\n', 'package.toml', 'buildpack');
    expect(r.issues).toEqual([]);
    expect(r.value).toEqual({
      kind: 'buildpack',
      module: { id: '', version: '', uri: 'meta' },
      dependencies: [
        { id: '', version: '', uri: 'a.tgz' },
        { id: '', version: '', uri: 'docker://reg/bp:1' },
      ],
      os: 'linux',
    });
  });

  it('defaults the uri to package.toml\'s directory', () => {
    expect(parsePackageConfig('', 'package.toml', 'extension').value?.module.uri).toBe('.');
  });

  it('refuses the other kind\'s table, uri and image together, an empty dependency, extension dependencies and other OSes', () => {
    expect(errors('[extension]\nuri = "x"\n')).toEqual(['extension: is for `kiln extension package`; this is `kiln buildpack package`: use [buildpack]']);
    expect(errors('[[dependencies]]\nuri = "a"\nimage = "b"\n')).toEqual(['dependencies[0]: give either uri or image, not both']);
    expect(errors('[[dependencies]]\n')[0]).toMatch(/^dependencies\[0\]: needs a uri/);
    expect(errors('[extension]\nuri = "x"\n[[dependencies]]\nuri = "a"\n', 'extension')[0]).toMatch(/^dependencies: are for composite buildpacks/);
    expect(errors('[platform]\nos = "windows"\n')).toEqual(['platform.os: "windows" is not supported: kiln packages linux modules only']);
  });

  it('warns about unknown keys with their key path', () => {
    const r = parsePackageConfig('[buildpack]\nuri = "."\nextra = 1\n', 'package.toml', 'buildpack');
    expect(r.issues.map((i) => `${i.severity} ${i.keyPath}`)).toEqual(['warning buildpack.extra']);
  });
});
