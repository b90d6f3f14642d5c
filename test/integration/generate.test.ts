/**
 * The generate phase on the real daemon (issue 4 item 2, image_extension.md, "Phase: Generation"), then the extend phase on its output
 * (issue 4 item 3): bin/generate as the CNB user with the app read-only, static generate/ dirs, exit 91
 * and 92, the run image switch, plan filtering; the generated Dockerfiles applied to the builder and run
 * images. Everything labelled with the run's test label and removed.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { ExitCode, KilnError } from '../../src/errors.js';
import { makeTar } from '../../src/image/tar-files.js';
import { extendImage } from '../../src/lifecycle/extend/extend.js';
import { extendStepsFor, runGenerate, type GenerateInput } from '../../src/lifecycle/generate.js';
import type { RunVolumes } from '../../src/lifecycle/container/module-run.js';
import type { PhaseContext } from '../../src/lifecycle/phase-context.js';
import { readBuilder, type BuilderInfo } from '../../src/lifecycle/read-builder.js';
import { readFilesFromVolume, seedVolumeFromImage, writeToVolume } from '../../src/lifecycle/container/volume-io.js';
import type { KilnEvent } from '../../src/ports.js';
import type { GroupMember, PlanFile } from '../../src/cnb/models.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, leftovers, testLabels, testName } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const labels = testLabels({ 'io.kiln.test.file': 'generate' });
const bases = useBusyboxImages(engine);
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'extensions');
const member = (id: string, version = '1.0.0'): GroupMember => ({ id: `test/${id}`, version, api: '0.10' });

let builder: BuilderInfo;
let builderTag: string;
let volumes: RunVolumes;

afterAll(async () => {
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine, labels);
  expect(await leftovers(engine, labels)).toEqual({ containers: [], images: [], volumes: [] });
});

function context(): { ctx: PhaseContext; events: KilnEvent[] } {
  const events: KilnEvent[] = [];
  return { ctx: { engine, reporter: { emit: (e) => events.push(e) }, labels, ids: { newId: () => randomUUID() } }, events };
}

beforeAll(async () => {
  builderTag = `kiln-test/generate-builder:${testName('b')}`;
  await makeTestBuilder(engine, {
    buildpacks: [],
    extensions: ['tool-ext', 'static-ext', 'failing-ext', 'bad-dockerfile-ext', 'switch-ext'].map((d) => join(FIXTURES, d)),
    orderToml: '[[order-extensions]]\n[[order-extensions.group]]\nid = "test/tool-ext"\nversion = "1.0.0"\n',
    runImage: bases().run,
    tag: builderTag,
    labels,
  });
  const { ctx } = context();
  builder = await readBuilder(ctx, builderTag);
  volumes = { app: testName('app'), layers: testName('layers'), platform: testName('platform'), scratch: testName('scratch') };
  for (const v of Object.values(volumes)) await engine.createVolume(v, labels);
  await seedVolumeFromImage(ctx, { volume: volumes.layers, image: builder.info.id, path: '/layers' });
  // As build-app.ts: the scratch volume is writable by the CNB user (the generate container makes its plan file there).
  await seedVolumeFromImage(ctx, { volume: volumes.scratch, image: builder.info.id, path: '/layers' });
  await writeToVolume(ctx, { volume: volumes.app, image: builder.info.id, dest: '/', tar: await makeTar([{ path: 'app.txt', content: 'the app\n', uid: 1000, gid: 1000 }]) });
});

const PLAN: PlanFile = {
  entries: [
    { providers: [{ id: 'test/tool-ext', version: '1.0.0', extension: true }, { id: 'bp', version: '1' }], requires: [{ name: 'tool', metadata: { version: '2' } }] },
    { providers: [{ id: 'bp', version: '1' }], requires: [{ name: 'other', metadata: {} }] },
  ],
};

function input(groupExtensions: GroupMember[], over: Partial<GenerateInput> = {}): GenerateInput {
  return { builder, volumes, groupExtensions, plan: PLAN, platformEnv: {}, runImage: { image: bases().run }, target: { os: 'linux', arch: 'amd64' }, ...over };
}

describe('runGenerate', () => {
  it('runs bin/generate with the spec env and a read-only app, reads static generate/ dirs, filters the plan; extend applies the result', async () => {
    const { ctx, events } = context();
    const r = await runGenerate(ctx, input([member('tool-ext'), member('static-ext', '0.1.0')]));
    const lines = events.flatMap((e) => (e.type === 'module-line' && e.module === 'test/tool-ext' ? [e.line] : []));
    expect(lines).toContain('generating into /layers/generated/test_tool-ext (CNB_OUTPUT_DIR=/layers/generated/test_tool-ext)');
    expect(lines).toContain('platform=/platform plan=/kiln/generate/test_tool-ext/plan.toml ext=/cnb/extensions/test_tool-ext/1.0.0 target=linux/amd64');
    expect(lines).toContain('app is read-only');
    const [tool, stat] = r.extensions;
    expect(tool).toMatchObject({ id: 'test/tool-ext', source: 'bin/generate', args: { build: [{ name: 'tool_version', value: '2.0.0' }], run: [] }, run: { extends: true } });
    expect(tool?.plan).toEqual([{ name: 'tool', metadata: { version: '2' } }]);
    expect(stat).toMatchObject({ id: 'test/static-ext', source: 'generate/', run: { extends: true } });
    expect(stat?.contexts.run).toBeDefined();
    expect(r.plan.entries.map((e) => e.requires[0]?.name)).toEqual(['other']);
    expect(r.runImage).toMatchObject({ image: bases().run, switched: false, extend: true, ignored: [] });
    expect(r.extendBuild).toBe(true);
    // The static generate/ files were copied into <generated>/<id>/ (image_extension.md, "Generation").
    const generated = await readFilesFromVolume(ctx, { volume: volumes.layers, image: builder.info.id, path: '/generated' });
    expect([...generated.keys()].sort()).toEqual(expect.arrayContaining(['generated/test_static-ext/run.Dockerfile', 'generated/test_tool-ext/build.Dockerfile']));

    const built = await extendImage(ctx, { kind: 'build', baseImage: builder.info.id, steps: extendStepsFor(r, 'build'), network: 'none' });
    const out: string[] = [];
    await engine.runContainer({ image: built.imageId, cmd: ['sh', '-c', '/usr/local/bin/mytool && cat /generate-user.txt && id -u'], user: '1000:1000', labels, onLine: (_s, l) => out.push(l) });
    expect(out).toEqual(['mytool 2.0.0', 'user=1000:1000', '1000']);
    expect((await engine.inspectImage(built.imageId))?.config.user).toBe('1000:1000');

    const run = await extendImage(ctx, { kind: 'run', baseImage: bases().run, steps: extendStepsFor(r, 'run'), app: { volume: volumes.app, image: builder.info.id }, network: 'none' });
    const runOut: string[] = [];
    await engine.runContainer({ image: run.imageId, cmd: ['sh', '-c', 'cat /opt/static.txt /opt/ext-plan.toml'], user: '1001:1000', labels, onLine: (_s, l) => runOut.push(l) });
    expect(runOut[0]).toBe('from the static context.run');
    expect(runOut.join('\n')).toContain('name = "tool"');
    expect(run.history.map((h) => [h.extensionId, h.command])).toEqual([['test/tool-ext', 'COPY plan.toml /opt/ext-plan.toml'], ['test/static-ext', 'COPY static.txt /opt/static.txt']]);
  });

  it('a bin/generate that exits non-zero fails with exit 91 naming the extension; its output streams', async () => {
    const { ctx, events } = context();
    const err = await runGenerate(ctx, input([member('failing-ext')])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(ExitCode.generateFailed);
    expect((err as KilnError).message).toContain('test/failing-ext');
    expect(events).toContainEqual({ type: 'module-line', module: 'test/failing-ext', stream: 'stderr', line: 'about to fail' });
  });

  it('an invalid build.Dockerfile fails with exit 92 and its line', async () => {
    const err = await runGenerate(context().ctx, input([member('bad-dockerfile-ext')])).catch((e: unknown) => e);
    expect((err as KilnError).exitCode).toBe(ExitCode.generateError);
    expect((err as KilnError).message).toContain('/layers/generated/test_bad-dockerfile-ext/build.Dockerfile:3:');
  });

  it('a FROM-only run.Dockerfile switches the run image and supersedes earlier run.Dockerfiles', async () => {
    const { ctx, events } = context();
    const r = await runGenerate(ctx, input([member('static-ext', '0.1.0'), member('switch-ext')]));
    expect(r.runImage).toMatchObject({ image: 'kiln-test/switched-run:never-pulled', switched: true, extend: false, ignored: ['test/static-ext'], inRunToml: false });
    expect(r.extensions[0]?.ignored).toBe(true);
    expect(extendStepsFor(r, 'run')).toEqual([]);
    expect(events.some((e) => e.type === 'warning' && e.message.includes('not listed'))).toBe(true);
  });
});
