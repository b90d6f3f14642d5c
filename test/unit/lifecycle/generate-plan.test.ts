import { describe, expect, it } from 'vitest';
import { buildpackPlanFor, checkContextDirs, chooseRunImage, filterPlanAfterGenerate, selectBuildContext } from '../../../src/lifecycle/generate-plan.js';
import type { PlanEntry, PlanFile } from '../../../src/cnb/models.js';

const current = { image: 'registry.example/run:jammy' };
const df = (extensionId: string, base: string, hasInstructions: boolean) => ({ extensionId, base, hasInstructions });
const EXTEND = '${base_image}';

describe('chooseRunImage', () => {
  it('a run.Dockerfile that is only FROM some/image:tag switches the run image without extending', () => {
    expect(chooseRunImage([df('x', 'some/image:tag', false)], current)).toEqual({ image: 'some/image:tag', switched: true, extend: false, ignored: [] });
  });

  it('two extending run.Dockerfiles => both applied, extend=true, same image', () => {
    expect(chooseRunImage([df('x', EXTEND, true), df('y', EXTEND, true)], current)).toEqual({ image: current.image, switched: false, extend: true, ignored: [] });
  });

  it('first switches, second extends => both apply on the first one’s image', () => {
    expect(chooseRunImage([df('x', 'other/run:1', false), df('y', EXTEND, true)], current)).toEqual({ image: 'other/run:1', switched: true, extend: true, ignored: [] });
  });

  it('first extends, second switches => the first is ignored, run image = second’s', () => {
    expect(chooseRunImage([df('x', EXTEND, true), df('y', 'other/run:2', false)], current)).toEqual({ image: 'other/run:2', switched: true, extend: false, ignored: ['x'] });
  });

  it('both switch => the last wins, the earlier is ignored', () => {
    expect(chooseRunImage([df('x', 'other/run:1', true), df('y', 'other/run:2', false)], current)).toEqual({ image: 'other/run:2', switched: true, extend: false, ignored: ['x'] });
    // A switching file with instructions also extends the new base.
    expect(chooseRunImage([df('x', 'a:1', false), df('y', 'b:1', true), df('z', EXTEND, false)], current)).toEqual({ image: 'b:1', switched: true, extend: true, ignored: ['x'] });
  });

  it('FROM <current run-image string> with no instructions => no change at all; ${base_image} is never a switch', () => {
    expect(chooseRunImage([df('x', current.image, false)], current)).toEqual({ image: current.image, switched: false, extend: false, ignored: [] });
    expect(chooseRunImage([df('x', EXTEND, false)], current)).toEqual({ image: current.image, switched: false, extend: false, ignored: [] });
    // The comparison is on the raw string (image_extension.md, "Dockerfile Requirements"): a digest-pinned form of the same image is a switch.
    expect(chooseRunImage([df('x', `${current.image}@sha256:${'a'.repeat(64)}`, false)], current).switched).toBe(true);
  });

  it('no run.Dockerfiles => nothing changes', () => {
    expect(chooseRunImage([], current)).toEqual({ image: current.image, switched: false, extend: false, ignored: [] });
  });

  it('ignored extensions are listed in group order', () => {
    expect(chooseRunImage([df('a', EXTEND, true), df('b', 'x:1', false), df('c', 'y:1', false)], current).ignored).toEqual(['a', 'b']);
  });
});

describe('build contexts', () => {
  const dirs = (context: boolean, contextBuild: boolean, contextRun: boolean) => ({ context, contextBuild, contextRun });
  it('context.<kind>/ wins, then context/, then the app dir', () => {
    expect(selectBuildContext('build', dirs(false, true, true))).toBe('context.build');
    expect(selectBuildContext('run', dirs(false, true, true))).toBe('context.run');
    expect(selectBuildContext('run', dirs(false, true, false))).toBe('app');
    expect(selectBuildContext('build', dirs(true, false, false))).toBe('context');
    expect(selectBuildContext('run', dirs(true, false, false))).toBe('context');
    expect(selectBuildContext('build', dirs(false, false, false))).toBe('app');
  });

  it('context/ together with context.run/ (or context.build/) is a generate error', () => {
    expect(checkContextDirs('ext/x', dirs(true, false, true))).toBe(
      'extension ext/x produced both context/ and context.run/; use either the shared context/ or the per-kind directories',
    );
    expect(checkContextDirs('ext/x', dirs(true, true, true))).toContain('context.build/ and context.run/');
    expect(checkContextDirs('ext/x', dirs(true, false, false))).toBeUndefined();
    expect(checkContextDirs('ext/x', dirs(false, true, true))).toBeUndefined();
  });
});

describe('plan after generate', () => {
  const node: PlanEntry = {
    providers: [
      { id: 'ext/node', version: '1', extension: true },
      { id: 'bp/node', version: '2' },
    ],
    requires: [
      { name: 'node', metadata: { version: '20' } },
      { name: 'node', metadata: { build: true } },
    ],
  };
  const npm: PlanEntry = { providers: [{ id: 'bp/node', version: '2' }], requires: [{ name: 'npm', metadata: {} }] };
  const plan: PlanFile = { entries: [node, npm] };

  it('an entry provided by an extension and a buildpack is consumed by the extension; the buildpack no longer gets it', () => {
    expect(buildpackPlanFor(plan, { id: 'ext/node', version: '1', extension: true })).toEqual(node.requires);
    expect(buildpackPlanFor(plan, { id: 'bp/node', version: '2', extension: false })).toEqual([...node.requires, ...npm.requires]);
    const after = filterPlanAfterGenerate(plan, [{ id: 'ext/node', version: '1', api: '0.10' }]);
    expect(after).toEqual({ entries: [npm] });
    expect(buildpackPlanFor(after, { id: 'bp/node', version: '2', extension: false })).toEqual(npm.requires);
  });

  it('buildpackPlanFor matches the provider kind: a buildpack and an extension with the same id differ', () => {
    const same: PlanFile = { entries: [{ providers: [{ id: 'x', version: '1', extension: true }], requires: [{ name: 'n', metadata: {} }] }] };
    expect(buildpackPlanFor(same, { id: 'x', version: '1', extension: false })).toEqual([]);
    expect(buildpackPlanFor(same, { id: 'x', version: '1', extension: true })).toHaveLength(1);
  });

  it('filterPlanAfterGenerate leaves the plan alone when no extension provides anything, and does not mutate its input', () => {
    expect(filterPlanAfterGenerate(plan, [])).toEqual(plan);
    expect(filterPlanAfterGenerate(plan, [{ id: 'ext/other', version: '1', api: '0.10' }])).toEqual(plan);
    filterPlanAfterGenerate(plan, [{ id: 'ext/node', version: '1', api: '0.10' }]);
    expect(plan.entries).toHaveLength(2);
  });

  it('removes every entry with a consumed name, e.g. a second entry of the same name', () => {
    const dup: PlanEntry = { providers: [{ id: 'bp/other', version: '1' }], requires: [{ name: 'node', metadata: {} }] };
    const after = filterPlanAfterGenerate({ entries: [node, dup, npm] }, [{ id: 'ext/node', version: '1', api: '0.10' }]);
    expect(after.entries).toEqual([npm]);
  });
});
