/**
 * Export + launch on the real daemon (issue 4, items 5 and 6): fake layer dirs and an app dir in
 * labelled volumes are exported onto a busybox-only run image; the image's layers, labels and config
 * are checked, `docker run` starts the default process, another one via --entrypoint, user args
 * replace process args, env.launch reaches the process, it runs as 1000:1000, and exporting twice
 * gives the same image id. Everything is labelled and removed.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { KilnError } from '../../src/errors.js';
import { decodeBuildMetadata, decodeLifecycleMetadata } from '../../src/image/lifecycle-labels.js';
import { makeTar } from '../../src/image/tar-files.js';
import { exportImage, type ExportInput } from '../../src/lifecycle/export/export.js';
import type { PhaseContext } from '../../src/lifecycle/phase-context.js';
import { writeToVolume } from '../../src/lifecycle/container/volume-io.js';
import type { KilnEvent } from '../../src/ports.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { leftovers, runId, TEST_LABEL, testLabels, testName } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const labels = testLabels();
const events: KilnEvent[] = [];
const ctx: PhaseContext = { engine, reporter: { emit: (e) => events.push(e) }, labels, ids: { newId: () => 'id' } };
// The run image user is the CNB user here (1000:1000): the image inherits it (platform.md, "`exporter` Outputs").
const bases = useBusyboxImages(engine, { runUid: 1000, runGid: 1000, name: 'export' });
const appVolume = testName('app');
const layersVolume = testName('layers');
const tag = `kiln-test/export-app:${runId}`;
const tag2 = `kiln-test/export-app:${runId}-again`;

const HELLO = '#!/bin/sh\necho "hello $* ($GREETING) in $(pwd) as $(id -u):$(id -g)"\n';

beforeAll(async () => {
  await engine.createVolume(appVolume, labels);
  await engine.createVolume(layersVolume, labels);
  const u = { uid: 1000, gid: 1000 };
  await writeToVolume(ctx, {
    volume: layersVolume,
    image: bases().build,
    dest: '/',
    tar: await makeTar([
      { path: 'test_hello', type: 'directory', ...u },
      { path: 'test_hello/hello', type: 'directory', ...u },
      { path: 'test_hello/hello/bin', type: 'directory', ...u },
      { path: 'test_hello/hello/bin/hello', content: HELLO, mode: 0o755, ...u },
      { path: 'test_hello/hello/env.launch', type: 'directory', ...u },
      { path: 'test_hello/hello/env.launch/GREETING', content: 'hi there', ...u },
      { path: 'test_hello/hello/profile.d', type: 'directory', ...u },
      { path: 'test_hello/hello/profile.d/p.sh', content: 'export FROM_PROFILE=yes\n', ...u },
      { path: 'test_hello/build-only', type: 'directory', ...u },
      { path: 'test_hello/build-only/secret', content: 'not for the image', ...u },
    ]),
  });
  await writeToVolume(ctx, { volume: appVolume, image: bases().build, dest: '/', tar: await makeTar([{ path: 'index.txt', content: 'app\n', ...u }]) });
});

afterAll(async () => {
  await engine.removeImage(tag, { force: true });
  await engine.removeImage(tag2, { force: true });
  await engine.removeVolume(appVolume);
  await engine.removeVolume(layersVolume);
});

async function input(over: Partial<ExportInput> = {}): Promise<ExportInput> {
  const run = await engine.inspectImage(bases().run);
  if (run === undefined) throw new Error('run image missing');
  return {
    tags: [tag],
    runImage: { info: run, reference: run.id, image: bases().run, mirrors: [] },
    user: { uid: 1000, gid: 1000 },
    volumes: { layers: layersVolume, app: appVolume },
    helperImage: bases().build,
    group: [{ id: 'test/hello', version: '0.0.1', api: '0.10' }],
    groupExtensions: [],
    layerMetadata: {
      'test/hello': {
        hello: { types: { launch: true, build: false, cache: false }, metadata: { version: '1' } },
        'build-only': { types: { launch: false, build: true, cache: true }, metadata: {} },
      },
    },
    storeMetadata: {},
    processes: [
      { type: 'other', command: ['sh', '-c', 'echo "other:$0:$*:$GREETING"', 'zero'], args: ['one'], direct: true, default: false, buildpackId: 'test/hello' },
      { type: 'web', command: ['hello'], args: ['world'], direct: true, default: true, buildpackId: 'test/hello' },
    ],
    defaultProcessType: 'web',
    labels: [{ key: 'org.example.built-by', value: 'kiln-test' }],
    slices: [],
    projectMetadata: {},
    ...over,
  };
}

function docker(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('docker', args, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

/** `docker run --rm` with the test label and no network; extra flags go before the image. */
function run(flags: string[], args: string[] = []): ReturnType<typeof docker> {
  return docker(['run', '--rm', '--network', 'none', '--label', `${TEST_LABEL}=${runId}`, ...flags, tag, ...args]);
}

describe('exportImage on the daemon', () => {
  let imageId = '';

  it('exports an image with the layers, config and labels the exporter writes (platform.md, "exporter")', async () => {
    const result = await exportImage(ctx, await input());
    imageId = result.imageId;
    const info = await engine.inspectImage(tag);
    const run = await engine.inspectImage(bases().run);
    expect(info?.id).toBe(imageId);
    // run layers + hello + app + launcher + config + process-types (no SBOM dir, build-only not exported)
    expect(info?.layers.length).toBe((run?.layers.length ?? 0) + 5);
    expect(info?.layers.slice(0, run?.layers.length)).toEqual(run?.layers);
    expect(result.layers).toEqual(info?.layers);
    const c = info?.config;
    expect(c?.entrypoint).toEqual(['/cnb/process/web']);
    expect(c?.cmd ?? []).toEqual([]);
    expect(c?.user).toBe('1000:1000');
    expect(c?.workingDir).toBe('/workspace');
    expect(c?.env).toEqual(expect.arrayContaining(['CNB_LAYERS_DIR=/layers', 'CNB_APP_DIR=/workspace', 'CNB_PLATFORM_API=0.13', 'CNB_DEPRECATION_MODE=quiet']));
    expect(c?.env.find((e) => e.startsWith('PATH='))).toMatch(/^PATH=\/cnb\/process:\/cnb\/lifecycle:/);
    expect(c?.labels['org.example.built-by']).toBe('kiln-test');
    expect(c?.labels[TEST_LABEL]).toBe(runId); // inherited from the run image
    expect(c?.labels['io.buildpacks.project.metadata']).toBe('{}');

    const lm = decodeLifecycleMetadata(c?.labels['io.buildpacks.lifecycle.metadata'] ?? '');
    const top = info?.layers ?? [];
    expect(lm.buildpacks).toEqual([{ key: 'test/hello', version: '0.0.1', layers: { hello: { sha: top[top.length - 5], data: { version: '1' }, build: false, launch: true, cache: false } } }]);
    expect(lm.app).toEqual([{ sha: top[top.length - 4] }]);
    expect(lm.launcher.sha).toBe(top[top.length - 3]);
    expect(lm.config.sha).toBe(top[top.length - 2]);
    expect(lm.processTypes.sha).toBe(top[top.length - 1]);
    expect(lm.sbom).toBeUndefined();
    expect(lm.runImage).toEqual({ topLayer: run?.layers[run.layers.length - 1], reference: run?.id, image: bases().run, mirrors: [] });

    const bm = decodeBuildMetadata(c?.labels['io.buildpacks.build.metadata'] ?? '');
    expect(bm.buildpacks).toEqual([{ id: 'test/hello', version: '0.0.1', api: '0.10' }]);
    expect(bm.processes.map((p) => p.type)).toEqual(['other', 'web']);
    expect(bm.defaultProcessType).toBe('web');
    expect(events).toContainEqual({ type: 'layer', decision: 'added', layer: 'test/hello:hello' });
  });

  it('docker run starts the default process with env.launch, in /workspace, as 1000:1000', async () => {
    const r = await run([]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello world (hi there) in /workspace as 1000:1000\n');
  });

  it('extra docker run args replace the process args', async () => {
    expect((await run([], ['a', 'b c'])).stdout).toBe('hello a b c (hi there) in /workspace as 1000:1000\n');
  });

  it('--entrypoint /cnb/process/<type> starts another process', async () => {
    expect((await run(['--entrypoint', '/cnb/process/other'])).stdout).toBe('other:zero:one:hi there\n');
    expect((await run(['--entrypoint', 'other'], ['two'])).stdout).toBe('other:zero:two:hi there\n');
  });

  it('the bare launcher runs `-- cmd` directly and a plain command through the shell', async () => {
    expect((await run(['--entrypoint', 'launcher'], ['--', 'echo', '$GREETING'])).stdout).toBe('$GREETING\n');
    expect((await run(['--entrypoint', 'launcher'], ['echo $GREETING $FROM_PROFILE; echo $PATH'])).stdout).toMatch(/^hi there yes\n\/layers\/test_hello\/hello\/bin:/);
    expect((await run(['--entrypoint', 'launcher'], ['--', 'sh', '-c', 'echo "[$FROM_PROFILE]"'])).stdout).toBe('[]\n');
  });

  it('the image holds only launch layers and the app', async () => {
    const r = await run(['--entrypoint', '/bin/sh'], ['-c', 'ls /layers/test_hello; cat /workspace/index.txt; ls -ln /workspace/index.txt | awk "{print \\$3\\":\\"\\$4}"']);
    expect(r.stdout).toBe('hello\napp\n1000:1000\n');
  });

  it('exporting twice with the same inputs gives the same image id', async () => {
    const again = await exportImage(ctx, await input({ tags: [tag2] }));
    expect(again.imageId).toBe(imageId);
  });

  it('fails with exit code 62 for an unknown platform process type', async () => {
    const err = await exportImage(ctx, await input({ processTypeOverride: 'nope' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(62);
  });

  it('reuses the previous image layer for a launch layer without a dir, and fails with 62 without metadata', async () => {
    const info = await engine.inspectImage(tag);
    const previous = decodeLifecycleMetadata(info?.config.labels['io.buildpacks.lifecycle.metadata'] ?? '');
    const meta = { types: { launch: true, build: false, cache: false }, metadata: {} };
    const withGone = await input({ tags: [tag2], layerMetadata: { 'test/hello': { hello: meta, gone: meta } } });
    const err = await exportImage(ctx, withGone).catch((e: unknown) => e);
    expect((err as KilnError).exitCode).toBe(62);
    expect((err as KilnError).message).toMatch(/cannot reuse layer 'test\/hello:gone'/);
    const helloGone = await input({ tags: [tag2], previous, previousImageId: info?.id ?? '', layerMetadata: { 'test/hello': { missing: meta } } });
    const prevWithMissing = { ...previous, buildpacks: [{ ...previous.buildpacks[0]!, layers: { missing: previous.buildpacks[0]!.layers.hello! } }] };
    const reused = await exportImage(ctx, { ...helloGone, previous: prevWithMissing });
    const reusedInfo = await engine.inspectImage(tag2);
    expect(reusedInfo?.layers).toContain(previous.buildpacks[0]?.layers.hello?.sha);
    expect(reused.imageId).toBe(reusedInfo?.id);
  });

  it('leaves no containers behind', async () => {
    expect((await leftovers(engine)).containers).toEqual([]);
  });
});

describe('exportImage with an extended run image, an SBOM and slices', () => {
  const extTag = `kiln-test/export-ext:${runId}`;
  const sliceTag = `kiln-test/export-slices:${runId}`;
  const app2 = testName('app2');
  const layers2 = testName('layers2');

  beforeAll(async () => {
    await engine.createVolume(app2, labels);
    await engine.createVolume(layers2, labels);
    const u = { uid: 1000, gid: 1000 };
    await writeToVolume(ctx, {
      volume: layers2,
      image: bases().build,
      dest: '/',
      tar: await makeTar([
        { path: 'sbom', type: 'directory', ...u },
        { path: 'sbom/launch', type: 'directory', ...u },
        { path: 'sbom/launch/test_hello', type: 'directory', ...u },
        { path: 'sbom/launch/test_hello/sbom.cdx.json', content: '{}', ...u },
      ]),
    });
    await writeToVolume(ctx, {
      volume: app2,
      image: bases().build,
      dest: '/',
      tar: await makeTar([
        { path: 'public', type: 'directory', ...u },
        { path: 'public/a.css', content: 'a', ...u },
        { path: 'server.sh', content: 'echo server', ...u },
      ]),
    });
    const dockerfile = 'ARG base_image\nFROM ${base_image}\nUSER root\nRUN echo ext > /ext.txt\nUSER 1000:1000\nLABEL io.buildpacks.rebasable=false\n';
    await engine.buildImage({ context: await makeTar([{ path: 'Dockerfile', content: dockerfile }]), dockerfile: 'Dockerfile', buildArgs: { base_image: bases().run }, tag: extTag, labels });
  });

  afterAll(async () => {
    await engine.removeImage(sliceTag, { force: true });
    await engine.removeImage(extTag, { force: true });
    await engine.removeVolume(app2);
    await engine.removeVolume(layers2);
  });

  it('puts extension layers under the buildpack layers, takes the extended config, keeps topLayer of the original', async () => {
    const run = await engine.inspectImage(bases().run);
    const ext = await engine.inspectImage(extTag);
    if (run === undefined || ext === undefined) throw new Error('images missing');
    const extLayers = ext.layers.slice(run.layers.length);
    expect(extLayers.length).toBe(1);
    const inp = await input({
      tags: [sliceTag],
      volumes: { layers: layers2, app: app2 },
      layerMetadata: {},
      processes: [{ type: 'web', command: ['cat', '/ext.txt'], args: [], direct: true, default: true, buildpackId: 'test/hello' }],
      slices: [{ paths: ['public/*'] }],
      groupExtensions: [{ id: 'test/ext', version: '0.1.0', api: '0.10' }],
    });
    inp.runImage.extended = { info: ext, extensionLayers: extLayers.map((diffId) => ({ diffId, extensionId: 'test/ext', command: 'RUN echo ext > /ext.txt' })), rebasable: false };
    const result = await exportImage(ctx, inp);
    const info = await engine.inspectImage(sliceTag);
    expect(info?.id).toBe(result.imageId);
    // ext layers, then (no buildpack layers) SBOM, slice, app, launcher, config, process-types
    expect(info?.layers.slice(0, ext.layers.length)).toEqual(ext.layers);
    expect(info?.layers.length).toBe(ext.layers.length + 6);
    const lm = decodeLifecycleMetadata(info?.config.labels['io.buildpacks.lifecycle.metadata'] ?? '');
    expect(lm.runImage.topLayer).toBe(run.layers[run.layers.length - 1]);
    expect(lm.sbom?.sha).toBe(info?.layers[ext.layers.length]);
    expect(lm.app.length).toBe(2);
    expect(info?.config.labels['io.buildpacks.rebasable']).toBe('false');
    expect(decodeBuildMetadata(info?.config.labels['io.buildpacks.build.metadata'] ?? '').extensions).toEqual([{ id: 'test/ext', version: '0.1.0', api: '0.10' }]);
    const hist = await docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}', sliceTag]);
    expect(hist.stdout.split('\n').slice(0, 7)).toEqual([
      'Buildpacks Process Types',
      'Buildpacks Launcher Config',
      'Buildpacks Application Launcher',
      'Application Slice: 2',
      'Application Slice: 1',
      'Software Bill-of-Materials',
      "Layer: 'RUN echo ext > /ext.txt', Created by extension: test/ext",
    ]);
    const out = await docker(['run', '--rm', '--network', 'none', '--label', `${TEST_LABEL}=${runId}`, sliceTag]);
    expect(out.stdout).toBe('ext\n');
    const files = await docker(['run', '--rm', '--network', 'none', '--label', `${TEST_LABEL}=${runId}`, '--entrypoint', '/bin/sh', sliceTag, '-c', 'cat /workspace/public/a.css /workspace/server.sh /layers/sbom/launch/test_hello/sbom.cdx.json']);
    expect(files.stdout).toBe('aecho server{}');
  });
});
