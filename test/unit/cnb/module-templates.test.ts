/**
 * The scaffold (issue 20 point 1) and the TOML line finder lint relies on.
 */
import { describe, expect, it } from 'vitest';
import { parseBuildpackDescriptor } from '../../../src/cnb/buildpack-descriptor.js';
import { parseExtensionDescriptor } from '../../../src/cnb/extension-descriptor.js';
import { parseScaffoldTarget, SCAFFOLD_API, scaffoldFiles, shortName } from '../../../src/cnb/module-templates.js';
import { lineOfKey } from '../../../src/cnb/toml-lines.js';
import { lintBuildDockerfile, lintRunDockerfile } from '../../../src/image/dockerfile-lint.js';

const opts = { id: 'acme/hello', version: '1.2.3', targets: [{ os: 'linux', arch: 'arm64' }] };

/** The heredoc body of `<name>` in a generate script. */
function heredoc(script: string, name: string): string {
  const start = script.indexOf(`"$CNB_OUTPUT_DIR/${name}" <<'DOCKERFILE'\n`);
  const body = script.slice(script.indexOf('\n', start) + 1);
  return body.slice(0, body.indexOf('DOCKERFILE\n'));
}

describe('scaffoldFiles', () => {
  it('writes a valid buildpack descriptor with the newest API and the targets', () => {
    const files = scaffoldFiles('buildpack', opts);
    expect(files.map((f) => [f.path, f.mode])).toEqual([['buildpack.toml', 0o644], ['bin/detect', 0o755], ['bin/build', 0o755], ['README.md', 0o644]]);
    const d = parseBuildpackDescriptor(files[0]?.text ?? '', 'buildpack.toml');
    expect(d.issues).toEqual([]);
    expect(d.value).toMatchObject({ api: SCAFFOLD_API, id: 'acme/hello', version: '1.2.3', targets: [{ os: 'linux', arch: 'arm64' }] });
  });

  it('writes an extension whose generated Dockerfiles pass every lint rule, per kind', () => {
    for (const kind of ['build', 'run', 'both'] as const) {
      const files = scaffoldFiles('extension', opts, kind);
      expect(parseExtensionDescriptor(files[0]?.text ?? '', 'extension.toml').issues).toEqual([]);
      const generate = files.find((f) => f.path === 'bin/generate')?.text ?? '';
      expect(generate.includes('build.Dockerfile" <<')).toBe(kind !== 'run');
      expect(generate.includes('run.Dockerfile" <<')).toBe(kind !== 'build');
      if (kind !== 'run') expect(lintBuildDockerfile(heredoc(generate, 'build.Dockerfile'), 'build.Dockerfile')).toEqual([]);
      if (kind !== 'build') expect(lintRunDockerfile(heredoc(generate, 'run.Dockerfile'), 'run.Dockerfile')).toEqual([]);
    }
  });

  it('parses targets and short names', () => {
    expect(parseScaffoldTarget('linux/amd64/v2')).toEqual({ os: 'linux', arch: 'amd64', variant: 'v2' });
    expect(parseScaffoldTarget('linux; rm -rf /')).toBeUndefined();
    expect(shortName('acme/hello-world')).toBe('hello-world');
  });
});

describe('lineOfKey', () => {
  const text = 'api = "0.12"\n\n[buildpack]\nid = "x"\n\n[[targets]]\nos = "linux"\n\n[[targets]]\nos = "windows"\n';
  it('finds top-level keys, table keys and array-of-tables entries', () => {
    expect(lineOfKey(text, 'api')).toBe(1);
    expect(lineOfKey(text, 'buildpack.id')).toBe(4);
    expect(lineOfKey(text, 'targets[1].os')).toBe(10);
    expect(lineOfKey(text, 'targets[1]')).toBe(9);
    expect(lineOfKey(text, 'buildpack.version')).toBeUndefined();
  });
});
