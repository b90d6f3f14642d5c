/**
 * The extend phase on the real daemon (issue 4 item 3, image_extension.md, "Phase: Extension"): build.Dockerfiles on the builder
 * image, run.Dockerfiles on the run image, chained in order with base_image/build_id/user_id/group_id
 * and extension args; contexts; USER root refused for run (exit 102); rebasable. Everything labelled.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { ExitCode, KilnError } from '../../src/errors.js';
import { makeTar } from '../../src/image/tar-files.js';
import { extendImage, setsRebasableTrue } from '../../src/lifecycle/extend/extend.js';
import type { PhaseContext } from '../../src/lifecycle/phase-context.js';
import { writeToVolume } from '../../src/lifecycle/container/volume-io.js';
import type { KilnEvent } from '../../src/ports.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { cleanupByLabel, leftovers, testLabels, testName } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const labels = testLabels({ 'io.kiln.test.file': 'extend' });
const bases = useBusyboxImages(engine);

afterAll(async () => {
  await cleanupByLabel(engine, labels);
  expect(await leftovers(engine, labels)).toEqual({ containers: [], images: [], volumes: [] });
});

function context(): { ctx: PhaseContext; events: KilnEvent[] } {
  const events: KilnEvent[] = [];
  return { ctx: { engine, reporter: { emit: (e) => events.push(e) }, labels, ids: { newId: () => randomUUID() } }, events };
}

async function cat(image: string, path: string): Promise<string> {
  const lines: string[] = [];
  const r = await engine.runContainer({ image, cmd: ['cat', path], user: '0:0', labels, onLine: (_s, l) => lines.push(l) });
  if (r.exitCode !== 0) throw new Error(`cat ${path} in ${image} exited ${r.exitCode}`);
  return lines.join('\n');
}

const emptyContext = (): Promise<Buffer> => makeTar([{ path: 'README', content: 'ctx\n' }]);

const TOOL_DOCKERFILE = [
  'ARG base_image',
  'FROM ${base_image}',
  'ARG build_id=0',
  'ARG user_id',
  'ARG group_id',
  'ARG tool_version=unset',
  'USER root',
  'RUN mkdir -p /usr/local/bin && printf \'#!/bin/sh\\necho mytool %s\\n\' "$tool_version" > /usr/local/bin/mytool && chmod 755 /usr/local/bin/mytool',
  'RUN echo "$user_id:$group_id" > /ids && echo "$build_id" > /build_id',
  'USER ${user_id}:${group_id}',
  '',
].join('\n');

describe('extendImage kind build', () => {
  it('applies build.Dockerfiles in order, each on the previous result, with the lifecycle and extension args', async () => {
    const { ctx, events } = context();
    const second = ['ARG base_image', 'FROM ${base_image}', 'USER root', 'RUN /usr/local/bin/mytool > /second', 'USER 1000:1000', ''].join('\n');
    const r = await extendImage(ctx, {
      kind: 'build',
      baseImage: bases().build,
      steps: [
        { extensionId: 'test/tool', dockerfile: TOOL_DOCKERFILE, args: [{ name: 'tool_version', value: '1.2.3' }], context: await emptyContext() },
        { extensionId: 'test/second', dockerfile: second, args: [], context: await emptyContext() },
      ],
      network: 'none',
    });
    expect(r.changed).toBe(true);
    expect(r.steps.map((s) => s.extensionId)).toEqual(['test/tool', 'test/second']);
    expect(await cat(r.imageId, '/second')).toBe('mytool 1.2.3');
    expect(await cat(r.imageId, '/ids')).toBe('1000:1000');
    expect(await cat(r.imageId, '/build_id')).toBe(r.steps[0]?.buildId);
    const info = await engine.inspectImage(r.imageId);
    expect(info?.config.user).toBe('1000:1000');
    expect(r.newLayers.length).toBeGreaterThanOrEqual(2);
    expect(new Set(r.history.map((h) => h.extensionId))).toEqual(new Set(['test/tool', 'test/second']));
    // Build output streams to the reporter as module lines of the extension.
    expect(events.some((e) => e.type === 'module-line' && e.module === 'test/tool' && e.line.startsWith('Step 1/'))).toBe(true);
  });

  it('build_id is fresh every build: the step using it re-runs', async () => {
    const df = ['ARG base_image', 'FROM ${base_image}', 'ARG build_id=0', 'USER root', 'RUN echo "$build_id" > /bid', 'USER 1000:1000', ''].join('\n');
    const run = async (): Promise<{ id: string; bid: string; buildId: string }> => {
      const r = await extendImage(context().ctx, { kind: 'build', baseImage: bases().build, steps: [{ extensionId: 'x', dockerfile: df, args: [], context: await emptyContext() }], network: 'none' });
      return { id: r.imageId, bid: await cat(r.imageId, '/bid'), buildId: r.steps[0]?.buildId ?? '' };
    };
    const a = await run();
    const b = await run();
    expect(a.buildId).not.toBe(b.buildId);
    expect(a.bid).toBe(a.buildId);
    expect(b.bid).toBe(b.buildId);
    expect(a.id).not.toBe(b.id);
  });

  it('steps before ARG build_id come from the cache, the step using it re-runs', async () => {
    const df = ['ARG base_image', 'FROM ${base_image}', 'USER root', 'RUN date +%s%N > /before', 'ARG build_id=0', 'RUN echo "$build_id" > /bid', 'USER 1000:1000', ''].join('\n');
    const layersOf = async (): Promise<string[]> => {
      const r = await extendImage(context().ctx, { kind: 'build', baseImage: bases().build, steps: [{ extensionId: 'x', dockerfile: df, args: [], context: await emptyContext() }], network: 'none' });
      return r.steps[0]?.layers ?? [];
    };
    const a = await layersOf();
    const b = await layersOf();
    expect(a).toHaveLength(2);
    expect(b[0]).toBe(a[0]);
    expect(b[1]).not.toBe(a[1]);
  });

  it('a build image left as root only warns', async () => {
    const { ctx, events } = context();
    const df = ['ARG base_image', 'FROM ${base_image}', 'USER root', ''].join('\n');
    const r = await extendImage(ctx, { kind: 'build', baseImage: bases().build, steps: [{ extensionId: 'rooty', dockerfile: df, args: [], context: await emptyContext() }], network: 'none' });
    expect(r.warnings.some((w) => w.includes('root'))).toBe(true);
    expect(events.some((e) => e.type === 'warning')).toBe(true);
  });

  it('a failing Dockerfile is exit 102 naming the extension', async () => {
    const df = ['ARG base_image', 'FROM ${base_image}', 'RUN exit 3', ''].join('\n');
    const err = await extendImage(context().ctx, { kind: 'build', baseImage: bases().build, steps: [{ extensionId: 'broken', dockerfile: df, args: [], context: await emptyContext() }], network: 'none' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(ExitCode.extendFailed);
    expect((err as KilnError).message).toMatch(/broken/);
  });
});

describe('extendImage: a base with ONBUILD triggers', () => {
  it('a Dockerfile without COPY still gets its context when the base has a trigger that copies from it', async () => {
    const { ctx } = context();
    const trigger = ['FROM ' + bases().build, 'USER root', 'ONBUILD COPY app.txt /from-app.txt', 'USER 1000:1000', ''].join('\n');
    const { imageId: base } = await engine.buildImage({ context: await makeTar([{ path: 'Dockerfile', content: trigger }]), dockerfile: 'Dockerfile', buildArgs: {}, labels, network: 'none' });
    expect((await engine.inspectImage(base))?.config.onBuild).toEqual(['COPY app.txt /from-app.txt']);
    const r = await extendImage(ctx, {
      kind: 'build',
      baseImage: base,
      steps: [{ extensionId: 'test/plain', dockerfile: 'ARG base_image\nFROM ${base_image}\nRUN true\n', args: [], context: await makeTar([{ path: 'app.txt', content: 'from the context\n' }]) }],
      network: 'none',
    });
    expect(await cat(r.imageId, '/from-app.txt')).toBe('from the context');
  });
});

describe('extendImage kind run', () => {
  const ADD_FILE = ['ARG base_image', 'FROM ${base_image}', 'COPY added.txt /opt/added.txt', ''].join('\n');

  it('adds a file from the extension context; without its own label the run.Dockerfile makes the image non-rebasable (issue 15 point 1)', async () => {
    const ctxTar = await makeTar([{ path: 'added.txt', content: 'from the extension\n' }]);
    const r = await extendImage(context().ctx, { kind: 'run', baseImage: bases().run, steps: [{ extensionId: 'adder', dockerfile: ADD_FILE, args: [], context: ctxTar }], network: 'none' });
    expect(await cat(r.imageId, '/opt/added.txt')).toBe('from the extension');
    // The busybox run base is labelled rebasable=true, but an inherited label does not count
    // (image_extension.md: all applied Dockerfiles must set it), and the label says so.
    expect(r.rebasable).toBe(false);
    expect((await engine.inspectImage(r.imageId))?.config.labels['io.buildpacks.rebasable']).toBe('false');
    expect(r.newLayers).toHaveLength(1);
    expect(r.originalTopLayer).toBe((await engine.inspectImage(bases().run))?.layers.at(-1));
    // The lifecycle's 'inherit' behaviour stays available on request: the inherited value counts there.
    const e = await extendImage(context().ctx, { kind: 'run', baseImage: bases().run, steps: [{ extensionId: 'adder', dockerfile: ADD_FILE, args: [], context: ctxTar }], network: 'none', rebasableMode: 'inherit' });
    expect(e.rebasable).toBe(true);
  });

  it('rebasable is false when a Dockerfile sets it false, and stays false after a later true', async () => {
    const no = ['ARG base_image', 'FROM ${base_image}', 'LABEL io.buildpacks.rebasable=false', ''].join('\n');
    const yes = ['ARG base_image', 'FROM ${base_image}', 'LABEL io.buildpacks.rebasable=true', ''].join('\n');
    const c = await emptyContext();
    const r = await extendImage(context().ctx, { kind: 'run', baseImage: bases().run, steps: [{ extensionId: 'a', dockerfile: no, args: [], context: c }, { extensionId: 'b', dockerfile: yes, args: [], context: c }], network: 'none' });
    expect(r.rebasable).toBe(false);
    const info = await engine.inspectImage(r.imageId);
    expect(info?.config.labels['io.buildpacks.rebasable']).toBe('false');
    expect(setsRebasableTrue(yes)).toBe(true);
    expect(setsRebasableTrue(no)).toBe(false);
  });

  it('uses the run image user for user_id/group_id and takes the app volume as context when there is none', async () => {
    const volume = testName('app');
    await engine.createVolume(volume, labels);
    try {
      await writeToVolume(context().ctx, { volume, image: bases().run, dest: '/', tar: await makeTar([{ path: 'app.txt', content: 'app file\n' }]) });
      const df = ['ARG base_image', 'FROM ${base_image}', 'ARG user_id', 'ARG group_id', 'COPY app.txt /opt/app.txt', 'USER root', 'RUN echo "$user_id:$group_id" > /ids', 'USER ${user_id}:${group_id}', ''].join('\n');
      const r = await extendImage(context().ctx, { kind: 'run', baseImage: bases().run, steps: [{ extensionId: 'app-ctx', dockerfile: df, args: [] }], app: { volume, image: bases().run }, network: 'none' });
      expect(await cat(r.imageId, '/opt/app.txt')).toBe('app file');
      expect(await cat(r.imageId, '/ids')).toBe(`${bases().runUid}:${bases().runGid}`);
    } finally {
      await engine.removeVolume(volume);
    }
  });

  it('a run image left with USER root fails with exit 102; an intermediate root is fine', async () => {
    const root = ['ARG base_image', 'FROM ${base_image}', 'USER root', ''].join('\n');
    const back = ['ARG base_image', 'FROM ${base_image}', 'USER 1001:1000', ''].join('\n');
    const c = await emptyContext();
    const err = await extendImage(context().ctx, { kind: 'run', baseImage: bases().run, steps: [{ extensionId: 'rooty', dockerfile: root, args: [], context: c }], network: 'none' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(102);
    expect((err as KilnError).message).toMatch(/left as root is refused/);
    const ok = await extendImage(context().ctx, { kind: 'run', baseImage: bases().run, steps: [{ extensionId: 'rooty', dockerfile: root, args: [], context: c }, { extensionId: 'back', dockerfile: back, args: [], context: c }], network: 'none' });
    expect(ok.warnings.some((w) => w.includes('rooty'))).toBe(true);
  });

  it('no steps: the base unchanged', async () => {
    const r = await extendImage(context().ctx, { kind: 'run', baseImage: bases().run, steps: [] });
    expect(r.changed).toBe(false);
    expect(r.imageId).toBe((await engine.inspectImage(bases().run))?.id);
    expect(r.newLayers).toEqual([]);
  });
});
