import { describe, expect, it } from 'vitest';
import { inlineBuildpackFiles } from '../../../src/cnb/inline-buildpack.js';
import { parseBuildpackDescriptor } from '../../../src/cnb/buildpack-descriptor.js';

describe('inlineBuildpackFiles (extensions/project-descriptor.md, "io.buildpacks.group" script)', () => {
  it('makes a buildpack whose bin/build is the script under its shell and whose bin/detect passes', () => {
    const files = inlineBuildpackFiles({ id: 'me/inline', version: '', optional: false, script: { api: '0.10', inline: 'echo "hi"', shell: '/bin/bash' } });
    const byPath = new Map(files.map((f) => [f.path, f]));
    expect(byPath.get('bin/build')).toEqual({ path: 'bin/build', content: '#!/bin/bash\necho "hi"\n', mode: 0o755 });
    expect(byPath.get('bin/detect')?.content).toBe('#!/bin/sh\nexit 0\n');
    const d = parseBuildpackDescriptor(byPath.get('buildpack.toml')?.content ?? '', 'buildpack.toml', { hasExecutables: true });
    expect(d.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect([d.value?.id, d.value?.version, d.value?.api]).toEqual(['me/inline', '0.0.0', '0.10']);
  });
});
