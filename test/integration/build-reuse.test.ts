/**
 * Issue 21 points 2 and 5: an unchanged rebuild reuses the previous image without running the lifecycle
 * ("inputs unchanged: reusing sha256:..."); every changed input, a deleted previous image or cache
 * volume, --no-reuse and --network host give a real build.
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type BuildRequest } from '../../src/app/build-app.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { INPUT_IMAGES_LABEL, INPUT_KEY_LABEL } from '../../src/lifecycle/cache/cache-volume.js';
import type { KilnEvent } from '../../src/ports.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, runId, TEST_LABEL, testLabels, testName } from '../helpers/test-labels.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const fixtures = join(import.meta.dirname, '../fixtures/build');
const bases = useBusyboxImages(engine);
const builderTag = `kiln-test/reuse-builder:${testName('b')}`;
const otherBuilderTag = `kiln-test/reuse-builder2:${testName('b')}`;
const runTag = `kiln-test/reuse-run:${testName('r')}`;
const switchTag = `kiln-test/reuse-switch-target:${testName('s')}`;
const switchBuilderTag = `kiln-test/reuse-switch-builder:${testName('b')}`;
const appTag = `kiln-test/reuse-app:${testName('a')}`;
const cacheVolume = testName('reuse-cache');
const ORDER = '[[order]]\n[[order.group]]\nid = "kiln-test/first"\nversion = "1.0.0"\n[[order.group]]\nid = "kiln-test/second"\nversion = "2.0.0"\n';
let tmp = '';
let app = '';
let n = 0;

async function build(over: Partial<BuildRequest> = {}) {
  const events: KilnEvent[] = [];
  const req: BuildRequest = { image: appTag, builder: builderTag, path: app, env: { USER_VAR: 'u1' }, volumes: [], labels: testLabels(), cacheVolume, ...over };
  const out = await buildApp({ engine, reporter: { emit: (e) => events.push(e) }, ids: { newId: () => `ru${Date.now().toString(36)}${n++}` } }, req);
  const reusedLine = events.find((e): e is Extract<KilnEvent, { type: 'info' }> => e.type === 'info' && e.message.startsWith('inputs unchanged'));
  return { out, reused: reusedLine?.message, ranLifecycle: events.some((e) => e.type === 'phase-start' && e.phase === 'detecting') };
}

/** A real build of the current inputs, then an unchanged rebuild that reuses it. */
async function builtAndReused(over: Partial<BuildRequest> = {}): Promise<string> {
  await build(over);
  const again = await build(over);
  expect(again.reused).toMatch(/^inputs unchanged: reusing sha256:[0-9a-f]{64}$/);
  expect(again.ranLifecycle).toBe(false);
  return again.out.imageId;
}

async function expectRealBuild(over: Partial<BuildRequest> = {}, previous?: string): Promise<void> {
  const r = await build(over);
  expect(r.reused).toBeUndefined();
  expect(r.ranLifecycle).toBe(true);
  if (previous !== undefined) expect(r.out.imageId).not.toBe(previous);
}

/** A run image of its own, so "rebuilding" it does not touch the shared busybox bases. */
async function makeRunImage(stamp: string, tag = runTag): Promise<void> {
  const dir = join(tmp, `run-${stamp}-${n++}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Dockerfile'), `FROM ${bases().run}\nLABEL io.kiln.test.stamp=${stamp}\n`);
  await run('docker', ['build', '-q', '--network', 'none', '--label', `${TEST_LABEL}=${runId}`, '-t', tag, dir]);
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-reuse-'));
  app = join(tmp, 'app');
  await cp(join(fixtures, 'apps/simple'), app, { recursive: true });
  await writeFile(join(app, 'data.txt'), 'abcdef\n');
  for (const [tag, extra] of [[builderTag, {}], [otherBuilderTag, { 'io.kiln.test.variant': 'two' }]] as const) {
    await makeTestBuilder(engine, { buildpacks: ['first', 'second'].map((b) => join(fixtures, 'buildpacks', b)), extensions: [], orderToml: ORDER, runImage: bases().run, tag, labels: extra });
  }
  // A builder whose extension switches the run image to switchTag (a FROM-only run.Dockerfile).
  await makeRunImage('one', switchTag);
  const ext = join(tmp, 'switch-ext');
  await mkdir(join(ext, 'generate'), { recursive: true });
  await writeFile(join(ext, 'extension.toml'), 'api = "0.10"\n\n[extension]\nid = "kiln-test/switch"\nversion = "1.0.0"\n');
  await writeFile(join(ext, 'generate', 'run.Dockerfile'), `FROM ${switchTag}\n`);
  await chmod(ext, 0o755);
  const switchOrder = `${ORDER}\n[[order-extensions]]\n[[order-extensions.group]]\nid = "kiln-test/switch"\nversion = "1.0.0"\n`;
  await makeTestBuilder(engine, { buildpacks: ['first', 'second'].map((b) => join(fixtures, 'buildpacks', b)), extensions: [ext], orderToml: switchOrder, runImage: bases().run, tag: switchBuilderTag, labels: {} });
});

afterAll(async () => {
  for (const t of [appTag, builderTag, otherBuilderTag, runTag, switchTag, switchBuilderTag]) await engine.removeImage(t, { force: true });
  await engine.removeVolume(cacheVolume);
  await cleanupByLabel(engine);
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
});

describe('unchanged inputs reuse the previous image', () => {
  it('an identical rebuild reuses the image: same id, the key label on it, no phase run', async () => {
    const id = await builtAndReused();
    expect((await engine.inspectImage(appTag))?.id).toBe(id);
    expect((await engine.inspectImage(appTag))?.config.labels[INPUT_KEY_LABEL]).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('a one-byte change of the same size causes a real build', async () => {
    const id = await builtAndReused();
    await writeFile(join(app, 'data.txt'), 'abcdeX\n');
    await expectRealBuild({}, id);
  });

  it('a mode change (chmod +x) causes a real build', async () => {
    const id = await builtAndReused();
    await chmod(join(app, 'data.txt'), 0o755);
    await expectRealBuild({}, id);
    await chmod(join(app, 'data.txt'), 0o644);
  });

  it('a new empty directory causes a real build', async () => {
    const id = await builtAndReused();
    await mkdir(join(app, `empty-${n}`));
    await expectRealBuild({}, id);
  });

  it('a deleted file causes a real build', async () => {
    await writeFile(join(app, 'gone.txt'), 'soon gone\n');
    const id = await builtAndReused();
    await unlink(join(app, 'gone.txt'));
    await expectRealBuild({}, id);
  });

  it('a changed --env causes a real build', async () => {
    await builtAndReused();
    await expectRealBuild({ env: { USER_VAR: 'u2' } });
  });

  it('a changed builder causes a real build', async () => {
    await builtAndReused();
    await expectRealBuild({ builder: otherBuilderTag });
  });

  it('a rebuilt run image causes a real build', async () => {
    await makeRunImage('one');
    await builtAndReused({ runImage: runTag });
    await makeRunImage('two');
    await expectRealBuild({ runImage: runTag });
  });

  it('a rebuilt image an extension switched the run image to causes a real build', async () => {
    await builtAndReused({ builder: switchBuilderTag });
    expect((await engine.inspectImage(appTag))?.config.labels[INPUT_IMAGES_LABEL]).toBe(JSON.stringify([{ ref: switchTag, id: (await engine.inspectImage(switchTag))?.id }]));
    await makeRunImage('two', switchTag);
    await expectRealBuild({ builder: switchBuilderTag });
  });

  it("a changed project.toml exclude causes a real build; a change to an excluded file does not", async () => {
    const project = (exclude: string): string => `[_]\nschema-version = "0.2"\n\n[io.buildpacks]\nexclude = ["${exclude}"]\n`;
    await writeFile(join(app, 'notes.md'), 'notes\n');
    await writeFile(join(app, 'project.toml'), project('notes.md'));
    await builtAndReused();
    await writeFile(join(app, 'notes.md'), 'other notes\n');
    expect((await build()).reused).toMatch(/^inputs unchanged/);
    await writeFile(join(app, 'project.toml'), project('other.md'));
    await expectRealBuild();
  });

  it('a deleted previous image causes a real build', async () => {
    await builtAndReused();
    await engine.removeImage(appTag, { force: true });
    await expectRealBuild();
  });

  it('a deleted cache volume causes a real build', async () => {
    await builtAndReused();
    await engine.removeVolume(cacheVolume);
    await expectRealBuild();
  });

  it('--no-reuse runs the lifecycle and gives the same image id', async () => {
    const id = await builtAndReused();
    const r = await build({ noReuse: true });
    expect(r.ranLifecycle).toBe(true);
    expect(r.out.imageId).toBe(id);
  });

  it('--network host never reuses', async () => {
    await build({ network: 'host' });
    await expectRealBuild({ network: 'host' });
  });
});
