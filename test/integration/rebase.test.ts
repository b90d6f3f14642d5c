/**
 * `kiln rebase` on the real daemon (issue 7, platform.md, "`rebaser`"): a plain build moved onto a new
 * run image published under the recorded name keeps its app layers and processes; an extended,
 * non-rebasable image is refused (exit 72, saying why) and moved with --force, extension layer kept;
 * a run image outside image/mirrors is refused without --force and recorded with it.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp, type BuildRequest } from '../../src/app/build-app.js';
import { rebaseApp, type RebaseRequest } from '../../src/app/rebase-app.js';
import { main } from '../../src/cli/main.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { KilnError } from '../../src/errors.js';
import { decodeLifecycleMetadata } from '../../src/image/lifecycle-labels.js';
import { makeTar } from '../../src/image/tar-files.js';
import type { ImageInfo, KilnEvent } from '../../src/ports.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, testLabels, testName } from '../helpers/test-labels.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const fixtures = join(import.meta.dirname, '../fixtures/build');
const bases = useBusyboxImages(engine);
const tag = (what: string): string => `kiln-test/rebase-${what}:${testName('r')}`;
const runTag = tag('run');
const otherRun = tag('other-run');
const builders = { plain: tag('plain-builder'), ext: tag('ext-builder') };
const apps = { plain: tag('plain-app'), ext: tag('ext-app'), other: tag('other-app'), reext: tag('reext-app') };
let tmp = '';
let n = 0;
/** App images a rebase replaced: untagged then, and app images carry no test label, so removed by id. */
const replaced: string[] = [];

const ORDER = '[[order]]\n[[order.group]]\nid = "kiln-test/first"\nversion = "1.0.0"\n';

async function build(builder: string, image: string): Promise<ImageInfo> {
  const req: BuildRequest = { image, builder, path: join(fixtures, 'apps/simple'), env: {}, volumes: [], labels: testLabels() };
  await buildApp({ engine, reporter: { emit: () => undefined }, ids: { newId: () => `rb${Date.now().toString(36)}${n++}` } }, req);
  const info = await engine.inspectImage(image);
  if (info === undefined) throw new Error('no app image');
  replaced.push(info.id);
  return info;
}

async function rebase(req: RebaseRequest): Promise<{ imageId: string; events: KilnEvent[] }> {
  const events: KilnEvent[] = [];
  const out = await rebaseApp({ engine, reporter: { emit: (e) => events.push(e) } }, req);
  return { imageId: out.imageId, events };
}

async function refusal(req: RebaseRequest): Promise<KilnError> {
  const err = await rebaseApp({ engine, reporter: { emit: () => undefined } }, req).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KilnError);
  return err as KilnError;
}

/** A new run image: the busybox run base plus one file (COPY keeps its user and labels). */
async function newRunImage(version: string, ref: string): Promise<ImageInfo> {
  const context = await makeTar([
    { path: 'Dockerfile', content: `FROM ${bases().run}\nCOPY run-version /etc/run-version\n` },
    { path: 'run-version', content: `${version}\n` },
  ]);
  const { imageId } = await engine.buildImage({ context, dockerfile: 'Dockerfile', buildArgs: {}, tag: ref, labels: testLabels() });
  const info = await engine.inspectImage(imageId);
  if (info === undefined) throw new Error('no run image');
  return info;
}

async function docker(...args: string[]): Promise<string> {
  return (await run('docker', args)).stdout.trim();
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-rebase-test-'));
  // The builders name runTag: first the plain busybox run base, later a new image under that name.
  await engine.tagImage(bases().run, runTag);
  await makeTestBuilder(engine, { buildpacks: [join(fixtures, 'buildpacks/first')], extensions: [], orderToml: ORDER, runImage: runTag, tag: builders.plain, labels: {} });
  const ext = join(tmp, 'ext-file');
  await mkdir(join(ext, 'generate'), { recursive: true });
  await writeFile(join(ext, 'extension.toml'), 'api = "0.10"\n\n[extension]\nid = "kiln-test/ext-file"\nversion = "1.0.0"\n');
  // The busybox run base says rebasable=true, so the extension must say false itself (image_extension.md, "Dockerfile Requirements").
  await writeFile(join(ext, 'generate', 'run.Dockerfile'), 'ARG base_image\nFROM ${base_image}\nUSER root\nRUN echo extended > /ext-file\nUSER 1001:1000\nLABEL io.buildpacks.rebasable=false\n');
  await chmod(ext, 0o755);
  await makeTestBuilder(engine, {
    buildpacks: [join(fixtures, 'buildpacks/first')],
    extensions: [ext],
    orderToml: `${ORDER}\n[[order-extensions]]\n[[order-extensions.group]]\nid = "kiln-test/ext-file"\nversion = "1.0.0"\n`,
    runImage: runTag,
    tag: builders.ext,
    labels: {},
  });
}, 240_000);

afterAll(async () => {
  for (const t of [...Object.values(apps), ...Object.values(builders), runTag, otherRun, ...replaced]) await engine.removeImage(t, { force: true });
  await cleanupByLabel(engine);
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
});

describe('kiln rebase', () => {
  let oldRun: ImageInfo;
  let plainBefore: ImageInfo;
  let extBefore: ImageInfo;
  let v2: ImageInfo;

  it('moves a plain image onto the new image behind the recorded run image name, keeping app layers and processes', async () => {
    oldRun = (await engine.inspectImage(runTag)) as ImageInfo;
    plainBefore = await build(builders.plain, apps.plain);
    extBefore = await build(builders.ext, apps.ext);
    expect(extBefore.config.labels['io.buildpacks.rebasable']).toBe('false');
    // The run image name now points at a new image (a patched base, as a registry tag would).
    v2 = await newRunImage('v2', runTag);
    expect(v2.layers.length).toBe(oldRun.layers.length + 1);

    const { imageId } = await rebase({ image: apps.plain });
    const after = (await engine.inspectImage(apps.plain)) as ImageInfo;
    expect(after.id).toBe(imageId);
    expect(after.layers.slice(0, v2.layers.length)).toEqual(v2.layers);
    expect(after.layers.slice(v2.layers.length)).toEqual(plainBefore.layers.slice(oldRun.layers.length));
    const md = decodeLifecycleMetadata(after.config.labels['io.buildpacks.lifecycle.metadata'] ?? '');
    expect(md.runImage.topLayer).toBe(v2.layers.at(-1));
    expect(md.runImage.reference).toBe(v2.id);
    expect(md.runImage.image).toBe(runTag);
    expect(after.config.entrypoint).toEqual(plainBefore.config.entrypoint);
    expect(after.config.env).toEqual(plainBefore.config.env);
    // The build's input key does not describe the rebased image (issue 21): a rebuild is a real build.
    expect(plainBefore.config.labels['io.kiln.input-key']).toMatch(/^sha256:/);
    expect(after.config.labels['io.kiln.input-key']).toBeUndefined();
    expect(await docker('run', '--rm', '--network', 'none', apps.plain)).toBe('greet: from web');
    expect(await docker('run', '--rm', '--network', 'none', '--entrypoint', '/cnb/process/worker', apps.plain)).toBe('worker says hi');
    expect(await docker('run', '--rm', '--network', 'none', '--entrypoint', 'cat', apps.plain, '/etc/run-version')).toBe('v2');
    // Rebasing again onto the same base changes nothing.
    expect((await rebase({ image: apps.plain })).imageId).toBe(imageId);
  }, 300_000);

  it('refuses a non-rebasable extended image (exit 72, why and what to do), and --force keeps the extension layer', async () => {
    let stderr = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
    const code = await main(['node', 'kiln', 'rebase', apps.ext]).finally(() => spy.mockRestore());
    expect(code).toBe(72);
    expect(stderr).toContain('io.buildpacks.rebasable=false');
    expect(stderr).toContain('--reextend');
    const err = await refusal({ image: apps.ext });
    expect(err.exitCode).toBe(72);
    expect(err.message).toContain('io.buildpacks.rebasable=false');
    expect(err.hint).toContain('--force');
    expect((await engine.inspectImage(apps.ext))?.id).toBe(extBefore.id);

    const { events } = await rebase({ image: apps.ext, force: true });
    expect(events.some((e) => e.type === 'warning' && e.message.includes('rebasable=false'))).toBe(true);
    const after = (await engine.inspectImage(apps.ext)) as ImageInfo;
    expect(after.layers.slice(0, v2.layers.length)).toEqual(v2.layers);
    // Every layer above the original top (the extension layer included) survives (platform.md, "`rebaser`").
    expect(after.layers.slice(v2.layers.length)).toEqual(extBefore.layers.slice(oldRun.layers.length));
    expect(after.config.labels['io.buildpacks.rebasable']).toBe('false');
    expect(await docker('run', '--rm', '--network', 'none', '--entrypoint', 'cat', apps.ext, '/ext-file', '/etc/run-version')).toBe('extended\nv2');
    expect(await docker('run', '--rm', '--network', 'none', apps.ext)).toBe('greet: from web');
  }, 300_000);

  it('refuses a run image outside the recorded image/mirrors without --force, records it with --force', async () => {
    await build(builders.plain, apps.other);
    const other = await newRunImage('other', otherRun);
    const err = await refusal({ image: apps.other, runImage: otherRun });
    expect(err.exitCode).toBe(72);
    expect(err.message).toContain(`run image ${otherRun} is not the image the app was built on`);

    await rebase({ image: apps.other, runImage: otherRun, force: true });
    const after = (await engine.inspectImage(apps.other)) as ImageInfo;
    const md = decodeLifecycleMetadata(after.config.labels['io.buildpacks.lifecycle.metadata'] ?? '');
    expect(md.runImage).toEqual({ topLayer: other.layers.at(-1), reference: other.id, image: otherRun, mirrors: [] });
    expect(md.stack.runImage).toEqual({ image: otherRun, mirrors: [] });
    expect(await docker('run', '--rm', '--network', 'none', '--entrypoint', 'cat', apps.other, '/etc/run-version')).toBe('other');
  }, 300_000);

  it('--reextend re-applies the recorded run.Dockerfile on the new run image (no --force needed)', async () => {
    const before = await build(builders.ext, apps.reext);
    // Built on the image runTag names now (v2). Above it: one extension layer, then buildpack/app layers.
    const baseLen = before.layers.indexOf(decodeLifecycleMetadata(before.config.labels['io.buildpacks.lifecycle.metadata'] ?? '').runImage.topLayer) + 1;
    expect(baseLen).toBe(v2.layers.length);
    const above = before.layers.length - baseLen;
    expect(before.config.labels['dev.kiln.extend.run']).toContain('"extension":"kiln-test/ext-file"');
    const v3 = await newRunImage('v3', runTag);
    const { imageId, events } = await rebase({ image: apps.reext, reextend: true, labels: testLabels() });
    expect(events.some((e) => e.type === 'warning' && e.message.includes('--force'))).toBe(false);
    const after = (await engine.inspectImage(apps.reext)) as ImageInfo;
    expect(after.id).toBe(imageId);
    expect(after.layers.slice(0, v3.layers.length)).toEqual(v3.layers);
    // One new extension layer on v3, then the same buildpack/app layers as before (old extension layer gone).
    expect(after.layers.length).toBe(v3.layers.length + above);
    expect(after.layers.slice(v3.layers.length + 1)).toEqual(before.layers.slice(baseLen + 1));
    expect(after.layers).not.toContain(before.layers[baseLen]);
    const md = decodeLifecycleMetadata(after.config.labels['io.buildpacks.lifecycle.metadata'] ?? '');
    expect(md.runImage.topLayer).toBe(v3.layers.at(-1));
    expect(md.runImage.reference).toBe(v3.id);
    expect(after.config.labels['io.buildpacks.rebasable']).toBe('false');
    expect(await docker('run', '--rm', '--network', 'none', '--entrypoint', 'cat', apps.reext, '/ext-file', '/etc/run-version')).toBe('extended\nv3');
    expect(await docker('run', '--rm', '--network', 'none', apps.reext)).toBe('greet: from web');
    // A plain image has nothing recorded to re-apply.
    const err = await refusal({ image: apps.plain, reextend: true });
    expect(err.exitCode).toBe(72);
    expect(err.message).toContain('dev.kiln.extend.run');
  }, 300_000);

  it('an image that is not a buildpacks image is refused with exit 72', async () => {
    const err = await refusal({ image: runTag });
    expect(err.exitCode).toBe(72);
    expect(err.message).toContain('no io.buildpacks.lifecycle.metadata label');
  });
});
