/**
 * The one detect step that `kiln build` (build-steps.ts) and `kiln detect` (detect-app.ts) both run
 * (issue 16 point 1), on the shared fake engine: the project's group replaces the builder's order (so only
 * its modules run bin/detect), and a build reports a failed detection with exit 20 and the trace.
 */
import { describe, expect, it } from 'vitest';
import { detectStep, effectiveOrder, reportDetection } from '../../../src/app/detect-step.js';
import { KilnError } from '../../../src/errors.js';
import type { BuilderBuildpack, BuilderInfo } from '../../../src/lifecycle/read-builder.js';
import type { KilnEvent } from '../../../src/ports.js';
import type { BuildpackDescriptor, ProjectDescriptor } from '../../../src/cnb/models.js';
import { FakeEngine, fakeImage } from '../../helpers/fake-engine.js';

const IMAGE = fakeImage('sha256:builder', { config: { env: ['PATH=/bin', 'CNB_USER_ID=1000', 'CNB_GROUP_ID=1001'], user: '1000:1001', workingDir: '', entrypoint: null, cmd: null, labels: {} } });

function bp(id: string): BuilderBuildpack {
  const descriptor: BuildpackDescriptor = {
    kind: 'buildpack', api: '0.10', id, version: '1', name: '', homepage: '', description: '', keywords: [], licenses: [], targets: [], metadata: {},
    clearEnv: false, sbomFormats: [], execEnv: [], order: [], stacks: [],
  };
  return { kind: 'buildpack', descriptor, dir: `/cnb/buildpacks/${id.replace('/', '_')}/1`, files: new Map(), hasDetect: true, hasBuild: true };
}

const a = bp('acme/a');
const b = bp('acme/b');
const builder: BuilderInfo = {
  image: 'builder',
  info: IMAGE,
  user: { uid: 1000, gid: 1001 },
  env: IMAGE.config.env,
  order: { order: [{ group: [{ id: 'acme/a', version: '1', optional: false }, { id: 'acme/b', version: '1', optional: false }] }], orderExtensions: [] },
  runImages: [],
  buildpacks: new Map([['acme/a@1', a], ['acme/b@1', b]]),
  extensions: new Map(),
  buildConfigEnv: [],
};
const project = { group: [{ id: 'acme/b', version: '1', optional: false }], include: [], exclude: [], buildEnv: [] } as unknown as ProjectDescriptor;
const volumes = { app: 'app', layers: 'layers', platform: 'platform', scratch: 'scratch' };
const ctxOf = (engine: FakeEngine, events: KilnEvent[] = []) => ({ engine, reporter: { emit: (e: KilnEvent) => events.push(e) }, labels: { 'io.kiln.session': 's' }, ids: { newId: () => 'x' } });
const detected = (engine: FakeEngine): string[] => engine.runs.map((r) => r.cmd.find((c) => c.endsWith('/bin/detect')) ?? '').sort();

describe('the detect step of build and detect', () => {
  it("runs the builder's order, which project.toml's group has replaced (ephemeral-builder.ts): only its modules run bin/detect", async () => {
    const projectBuilder = { ...builder, order: { order: [{ group: project.group }], orderExtensions: [] } };
    expect(effectiveOrder(projectBuilder).order).toEqual([{ group: project.group }]);
    const withProject = new FakeEngine();
    const d = await detectStep(ctxOf(withProject), { builder: projectBuilder, project, volumes, platformEnv: {} });
    expect(detected(withProject)).toEqual(['/cnb/buildpacks/acme_b/1/bin/detect']);
    expect(d.resolved).toMatchObject({ ok: true, group: [{ id: 'acme/b', version: '1' }] });

    const without = new FakeEngine();
    const all = await detectStep(ctxOf(without), { builder, project: undefined, volumes, platformEnv: {} });
    expect(detected(without)).toEqual(['/cnb/buildpacks/acme_a/1/bin/detect', '/cnb/buildpacks/acme_b/1/bin/detect']);
    expect(all.resolved).toMatchObject({ ok: true, group: [{ id: 'acme/a' }, { id: 'acme/b' }] });
  });

  it('decides without reporting; a build reports a failed detection with the trace and exit 20', async () => {
    const engine = new FakeEngine({ runContainer: () => Promise.resolve({ exitCode: 100 }) });
    const events: KilnEvent[] = [];
    const d = await detectStep(ctxOf(engine, events), { builder, project: undefined, volumes, platformEnv: {} });
    expect(d.resolved).toMatchObject({ ok: false, code: 20 });
    expect(events).toEqual([]);
    const err = (() => {
      try {
        reportDetection({ emit: (e) => events.push(e) }, d);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(20);
    expect(events.some((e) => e.type === 'info' && e.message.includes('acme/a'))).toBe(true);
  });
});
