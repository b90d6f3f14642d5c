/**
 * `kiln build` end to end on the real daemon with busybox bases and shell-script buildpacks (issue 4):
 * detect with --env, a failing optional-free group skipped, build env layering between buildpacks,
 * .ignore layers, launch processes run with `docker run`, labels, reproducible image id, no leftovers.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, SESSION_LABEL, type BuildRequest } from '../../src/app/build-app.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { KilnError } from '../../src/errors.js';
import type { KilnEvent } from '../../src/ports.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, leftovers, testLabels, testName } from '../helpers/test-labels.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const fixtures = join(import.meta.dirname, '../fixtures/build');
const bases = useBusyboxImages(engine);
const builderTag = `kiln-test/build-basic-builder:${testName('b')}`;
const appTag = `kiln-test/build-basic-app:${testName('a')}`;
let n = 0;

function recorder(): { events: KilnEvent[]; lines: () => string[]; emit: (e: KilnEvent) => void } {
  const events: KilnEvent[] = [];
  return {
    events,
    emit: (e) => events.push(e),
    lines: () => events.flatMap((e) => (e.type === 'module-line' ? [`[${e.module}] ${e.line}`] : e.type === 'debug' || e.type === 'info' || e.type === 'warning' ? [e.message] : [])),
  };
}

function request(over: Partial<BuildRequest> = {}): BuildRequest {
  return { image: appTag, builder: builderTag, path: join(fixtures, 'apps/simple'), env: { USER_VAR: 'from-user' }, volumes: [], labels: testLabels(), ...over };
}

async function build(over: Partial<BuildRequest> = {}) {
  const rec = recorder();
  const out = await buildApp({ engine, reporter: rec, ids: { newId: () => `t${Date.now().toString(36)}${n++}` } }, request(over));
  return { out, rec };
}

beforeAll(async () => {
  await makeTestBuilder(engine, {
    buildpacks: ['first', 'second', 'never', 'broken', 'bad-layer'].map((b) => join(fixtures, 'buildpacks', b)),
    extensions: [],
    orderToml: [
      '[[order]]',
      '[[order.group]]',
      'id = "kiln-test/never"',
      'version = "0.1.0"',
      '[[order]]',
      '[[order.group]]',
      'id = "kiln-test/first"',
      'version = "1.0.0"',
      '[[order.group]]',
      'id = "kiln-test/second"',
      'version = "2.0.0"',
      '',
    ].join('\n'),
    runImage: bases().run,
    tag: builderTag,
    labels: {},
  });
});

afterAll(async () => {
  await engine.removeImage(appTag, { force: true });
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine);
});

describe('kiln build (busybox, shell-script buildpacks)', () => {
  it('detects, builds with layered env, exports, and leaves nothing of the session behind', async () => {
    const { out, rec } = await build();
    const lines = rec.lines();
    expect(out.group.map((g) => g.id)).toEqual(['kiln-test/first', 'kiln-test/second']);
    // --env reaches detect and build; the builder's own ENV (CNB_USER_ID) does not (platform.md, "Buildpack Environment").
    expect(lines).toContain('[kiln-test/first] first detect: USER_VAR=from-user FROM_IMAGE=unset plan=/kiln/detect/buildpack/kiln-test_first/1.0.0/plan.toml');
    expect(lines.some((l) => l.startsWith('[kiln-test/first] first build: USER_VAR=from-user CNB_USER_ID=unset layers=/layers/kiln-test_first uid=1000'))).toBe(true);
    expect(lines.some((l) => l.includes('first build plan: [[entries]] name = "greeter"'))).toBe(true);
    // A build layer of the first buildpack is on the second's PATH and env (buildpack.md, "Phase #5: Build", "Environment Variable Modification Rules").
    expect(lines).toContain('[kiln-test/second] second build: GREETING=hi USER_VAR=from-user');
    expect(lines).toContain('[kiln-test/second] greet: from second');
    expect(lines).toContain('[kiln-test/second] second build: scratch hidden');
    expect(lines).toContain('[kiln-test/second] app content');
    // project.toml's exclude = ["*.log"] kept secret.log out of the app volume.
    expect(lines).toContain('[kiln-test/second] app files: app.txt project.toml ');
    expect(lines).toContain('2 of 3 buildpacks participating');
    expect(out.processes).toEqual(['web', 'worker']);
    expect(out.defaultProcessType).toBe('web');

    const left = await leftovers(engine, { [SESSION_LABEL]: out.sessionId });
    expect(left.containers).toEqual([]);
    expect(left.volumes).toEqual([]);
    expect(left.images.filter((i) => i !== out.imageId)).toEqual([]);
  });

  it('runs the default and a second process with docker run', async () => {
    const web = await run('docker', ['run', '--rm', '--network', 'none', appTag]);
    expect(web.stdout.trim()).toBe('greet: from web');
    const worker = await run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', '/cnb/process/worker', appTag]);
    expect(worker.stdout.trim()).toBe('worker says hi');
  });

  it('writes the app image labels field by field', async () => {
    const app = await engine.inspectImage(appTag);
    const run = await engine.inspectImage(bases().run);
    const labels = app?.config.labels ?? {};
    expect(labels['org.example.first']).toBe('yes');
    expect(labels['io.buildpacks.rebasable']).toBe('true');
    expect(labels['io.buildpacks.base.id']).toBe(run?.config.labels['io.buildpacks.base.id']);
    expect(JSON.parse(labels['io.buildpacks.project.metadata'] ?? 'null')).toEqual({});
    const build = JSON.parse(labels['io.buildpacks.build.metadata'] ?? '{}') as Record<string, unknown>;
    expect(build.buildpacks).toEqual([
      { id: 'kiln-test/first', version: '1.0.0', api: '0.10' },
      { id: 'kiln-test/second', version: '2.0.0', api: '0.10' },
    ]);
    expect(build.extensions).toBeUndefined();
    expect(build.processes).toEqual([
      { type: 'web', command: ['greet'], args: ['from', 'web'], direct: true, buildpackID: 'kiln-test/first' },
      { type: 'worker', command: ['echo', 'worker says hi'], args: [], direct: true, buildpackID: 'kiln-test/first' },
    ]);
    expect(build['buildpack-default-process-type']).toBe('web');
    const md = JSON.parse(labels['io.buildpacks.lifecycle.metadata'] ?? '{}') as {
      buildpacks: { key: string; version: string; layers: Record<string, { sha: string; data: unknown; build: boolean; launch: boolean; cache: boolean }> }[];
      runImage: { topLayer: string; reference: string; image: string };
      stack: { runImage: { image: string } };
      app: { sha: string }[];
      config: { sha: string };
      launcher: { sha: string };
    };
    expect(md.buildpacks.map((b) => [b.key, b.version, Object.keys(b.layers)])).toEqual([
      ['kiln-test/first', '1.0.0', ['tools']],
      ['kiln-test/second', '2.0.0', []],
    ]);
    const tools = md.buildpacks[0]?.layers.tools;
    expect(tools).toMatchObject({ build: true, launch: true, cache: false, data: { version: '1' } });
    expect(app?.layers).toContain(tools?.sha);
    // The all-false "scratch" layer was hidden, never exported (buildpack.md, "Ignored Layers").
    expect(JSON.stringify(md)).not.toContain('scratch');
    expect(md.runImage.image).toBe(bases().run);
    expect(md.runImage.topLayer).toBe(run?.layers.at(-1));
    expect(md.stack.runImage.image).toBe(bases().run);
    for (const l of [...md.app, md.config, md.launcher]) expect(app?.layers).toContain(l.sha);
    expect(app?.layers.slice(0, run?.layers.length)).toEqual(run?.layers);
  });

  it('--default-process picks another process as the entrypoint', async () => {
    const image = `${appTag}-worker`;
    await build({ image, defaultProcess: 'worker' });
    try {
      const out = await run('docker', ['run', '--rm', '--network', 'none', image]);
      expect(out.stdout.trim()).toBe('worker says hi');
    } finally {
      await engine.removeImage(image, { force: true });
    }
  });

  it('gives the same image id for the same input', async () => {
    // --no-reuse: both run the lifecycle (unchanged inputs would otherwise reuse the first image).
    const a = await build({ noReuse: true });
    const b = await build({ noReuse: true });
    expect(b.out.imageId).toBe(a.out.imageId);
  });

  it('an abort (Ctrl-C) mid-build removes everything of the session', async () => {
    const abort = new AbortController();
    const session = `abort${Date.now().toString(36)}`;
    const reporter = {
      emit: (e: KilnEvent) => {
        if (e.type === 'module-line' && e.module === 'kiln-test/first' && e.line.startsWith('first build:')) abort.abort();
      },
    };
    const err = await buildApp({ engine, reporter, ids: { newId: () => session }, signal: abort.signal }, request({ image: `${appTag}-aborted` })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(130);
    expect(await leftovers(engine, { [SESSION_LABEL]: session })).toEqual({ containers: [], images: [], volumes: [] });
    expect(await engine.inspectImage(`${appTag}-aborted`)).toBeUndefined();
  });

  it('exits 20 when no group passes detection', async () => {
    const err = await build({ path: join(fixtures, 'apps/simple'), descriptor: join(fixtures, 'apps/never-project.toml') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(20);
  });

  it('a failing bin/build exits 51 naming the buildpack, and writes no image', async () => {
    const image = `${appTag}-broken`;
    const err = await build({ image, descriptor: join(fixtures, 'apps/broken-project.toml') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(51);
    expect((err as KilnError).message).toContain('kiln-test/broken');
    expect(await engine.inspectImage(image)).toBeUndefined();
  });

  it('top-level layer types exit 52 naming the buildpack', async () => {
    const err = await build({ image: `${appTag}-bad`, descriptor: join(fixtures, 'apps/bad-layer-project.toml') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(52);
    expect((err as KilnError).message).toContain('kiln-test/bad-layer');
    expect((err as KilnError).message).toContain('old.toml');
  });
});
