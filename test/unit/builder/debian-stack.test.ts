import { describe, expect, it } from 'vitest';
import { debianChanges, debianLabels, DEBIAN_BASE_ID } from '../../../src/stacks/debian.js';

describe('debian stack image settings', () => {
  it('gives the build image the CNB user env and a non-root user', () => {
    const changes = debianChanges('build', 1000, 1000, debianLabels('build'));
    expect(changes).toEqual(expect.arrayContaining(['ENV CNB_USER_ID=1000', 'ENV CNB_GROUP_ID=1000', 'USER 1000:1000', expect.stringMatching(/^ENV PATH=/)]));
    expect(changes).toContain(`LABEL io.buildpacks.base.id="${DEBIAN_BASE_ID}"`);
    expect(changes).toContain('LABEL io.buildpacks.base.distro.name="debian"');
    expect(changes).toContain('LABEL io.buildpacks.base.distro.version="12"');
    expect(debianLabels('build')['io.buildpacks.rebasable']).toBeUndefined();
  });

  it('marks the run image rebasable, without CNB_* env', () => {
    const changes = debianChanges('run', 1000, 1000, debianLabels('run', { 'io.kiln.test': 'x' }));
    expect(changes.some((c) => c.startsWith('ENV CNB_'))).toBe(false);
    expect(changes).toContain('LABEL io.buildpacks.rebasable="true"');
    expect(changes).toContain('LABEL io.kiln.test="x"');
    expect(changes).toContain('USER 1000:1000');
  });
});
