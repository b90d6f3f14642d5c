/**
 * Issue 15 points 1, 2, 3, 4, 6, 8 and 11 on the real daemon (busybox stack): a run.Dockerfile must
 * opt into io.buildpacks.rebasable itself; an extension's base_image arg never changes the base;
 * build_id is a UUID; run.toml mirrors stand in for an absent run image (build, switch and rebase);
 * writes under /workspace, /layers and /platform are not persisted and do not fail; extension layer
 * history names the instruction and kiln's LABEL step is not the extension's output; detect errors are
 * named; the root-user warning; the summary of a switching extension. Everything labelled and removed.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type BuildRequest } from '../../src/app/build-app.js';
import { rebaseApp } from '../../src/app/rebase-app.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { makeTar } from '../../src/image/tar-files.js';
import { extendImage } from '../../src/lifecycle/extend/extend.js';
import type { ImageInfo, KilnEvent } from '../../src/ports.js';
import { collectSummary, formatSummary, summaryOf } from '../../src/ui/summary.js';
import { makeStyle } from '../../src/ui/style.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, testLabels, testName } from '../helpers/test-labels.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const fixtures = join(import.meta.dirname, '../fixtures/build');
const bases = useBusyboxImages(engine);
const tag = (what: string): string => `kiln-test/ext-conf-${what}:${testName('x')}`;
const builders = { conf: tag('conf-builder'), mirror: tag('mirror-builder') };
const apps = { conf: tag('conf-app'), mirror: tag('mirror-app') };
const runs = { other: tag('other-run'), mirrorA: tag('mirror-a'), mirrorB: tag('mirror-b'), absentA: tag('absent-a'), absentB: tag('absent-b') };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
let tmp = '';
let n = 0;

async function extension(id: string, files: Record<string, string>): Promise<string> {
  const dir = join(tmp, id.replace('/', '_'));
  await writeFile(join(await mkdir(dir, { recursive: true }).then(() => dir), 'extension.toml'), `api = "0.10"\n\n[extension]\nid = "${id}"\nversion = "1.0.0"\n`);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content, { mode: path.startsWith('bin/') ? 0o755 : 0o644 });
  }
  await chmod(dir, 0o755);
  return dir;
}

/** A run image: the busybox run base plus /opt/marker (a distinct top layer). */
async function markedRunImage(ref: string, marker: string): Promise<ImageInfo> {
  const context = await makeTar([
    { path: 'Dockerfile', content: `FROM ${bases().run}\nCOPY marker /opt/marker\n` },
    { path: 'marker', content: `${marker}\n` },
  ]);
  const { imageId } = await engine.buildImage({ context, dockerfile: 'Dockerfile', buildArgs: {}, tag: ref, labels: testLabels() });
  return (await engine.inspectImage(imageId)) as ImageInfo;
}

function request(builder: string, image: string, over: Partial<BuildRequest> = {}): BuildRequest {
  return { image, builder, path: join(fixtures, 'apps/simple'), env: {}, volumes: [], labels: testLabels(), ...over };
}

async function build(builder: string, image: string) {
  const events: KilnEvent[] = [];
  const { reporter, facts } = collectSummary({ emit: (e) => events.push(e) });
  // Session ids that are not UUIDs: build_id must not come from them.
  const out = await buildApp({ engine, reporter, ids: { newId: () => `c${Date.now().toString(36)}${n++}` } }, request(builder, image));
  const lines = events.flatMap((e) => (e.type === 'module-line' ? [`[${e.module}] ${e.line}`] : e.type === 'info' || e.type === 'warning' ? [e.message] : []));
  return { out, lines, events, facts };
}

async function sh(image: string, script: string): Promise<string> {
  return (await run('docker', ['run', '--rm', '--network', 'none', '--user', '0:0', '--entrypoint', '/bin/sh', image, '-c', script])).stdout.trim();
}

const ORDER = (exts: string[]): string =>
  `[[order]]\n[[order.group]]\nid = "kiln-test/first"\nversion = "1.0.0"\n\n[[order-extensions]]\n[[order-extensions.group]]\n${exts.map((e) => `id = "${e}"\nversion = "1.0.0"\n`).join('[[order-extensions.group]]\n')}`;

const WRITER = [
  'ARG base_image',
  'FROM ${base_image}',
  'ARG build_id=0',
  'USER root',
  'RUN mkdir -p /opt && echo "$build_id" > /opt/build-id && echo kept > /opt/ext.txt && echo app > /workspace/ext-app.txt && mkdir -p /layers/ext /platform/env && echo l > /layers/ext/f && echo p > /platform/env/EXT',
  'USER 1001:1000',
  '',
].join('\n');

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-ext-conf-'));
  await markedRunImage(runs.other, 'other');
  const bp = join(fixtures, 'buildpacks/first');
  // kiln-test/writer: no rebasable label, an extend-config base_image arg, writes under the three dirs.
  const writer = await extension('kiln-test/writer', {
    'generate/run.Dockerfile': WRITER,
    'generate/extend-config.toml': `[[run.args]]\nname = "base_image"\nvalue = "${runs.other}"\n`,
  });
  const erring = await extension('kiln-test/erring', { 'bin/detect': '#!/bin/sh\necho "erring detect says why"\nexit 7\n', 'bin/generate': '#!/bin/sh\nexit 1\n' });
  await makeTestBuilder(engine, { buildpacks: [bp], extensions: [erring, writer], orderToml: ORDER(['kiln-test/erring', 'kiln-test/writer']), runImage: bases().run, tag: builders.conf, labels: {} });
  // Mirrors: neither run.toml image is in the daemon, each has a mirror that is; the extension switches to the second.
  await markedRunImage(runs.mirrorA, 'a');
  await markedRunImage(runs.mirrorB, 'b');
  const switcher = await extension('kiln-test/switcher', { 'generate/run.Dockerfile': `FROM ${runs.absentB}\n` });
  await makeTestBuilder(engine, {
    buildpacks: [bp],
    extensions: [switcher],
    orderToml: ORDER(['kiln-test/switcher']),
    runImage: runs.absentA,
    runToml: `[[images]]\nimage = "${runs.absentA}"\nmirrors = ["${runs.mirrorA}"]\n\n[[images]]\nimage = "${runs.absentB}"\nmirrors = ["kiln-test/nowhere:1", "${runs.mirrorB}"]\n`,
    tag: builders.mirror,
    labels: {},
  });
}, 240_000);

afterAll(async () => {
  for (const t of [...Object.values(apps), ...Object.values(builders), ...Object.values(runs)]) await engine.removeImage(t, { force: true });
  await cleanupByLabel(engine);
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
});

describe('run image extension conformance (issue 15)', () => {
  // One build for points 1, 2, 3, 6, 8 and 11 (each asserted in its own test).
  let conf: Promise<{ app: ImageInfo; runBase: ImageInfo; lines: string[]; groupExtensions: string[] }> | undefined;
  const built = () =>
    (conf ??= build(builders.conf, apps.conf).then(async ({ out, lines }) => ({
      app: (await engine.inspectImage(apps.conf)) as ImageInfo,
      runBase: (await engine.inspectImage(bases().run)) as ImageInfo,
      lines,
      groupExtensions: out.groupExtensions.map((e) => e.id),
    })));

  it('point 1: an unlabelled run.Dockerfile on a rebasable run image gives a non-rebasable app image', async () => {
    const { app } = await built();
    expect(app.config.labels['io.buildpacks.rebasable']).toBe('false');
  });

  it("point 2: an extension's base_image arg is ignored with a warning naming it; the app sits on the platform's run image", async () => {
    const { app, runBase, lines } = await built();
    expect(lines.some((l) => l.includes("kiln-test/writer's extend-config.toml sets the build arg \"base_image\"") && l.includes('ignored'))).toBe(true);
    expect(app.layers.slice(0, runBase.layers.length)).toEqual(runBase.layers);
    expect(await sh(apps.conf, 'cat /opt/marker 2>/dev/null || echo none')).toBe('none');
    const md = JSON.parse(app.config.labels['io.buildpacks.lifecycle.metadata'] ?? '{}') as { runImage?: { image?: string; topLayer?: string } };
    expect(md.runImage?.image).toBe(bases().run);
    expect(md.runImage?.topLayer).toBe(runBase.layers.at(-1));
  });

  it('point 3: build_id is a UUID', async () => {
    await built();
    expect(await sh(apps.conf, 'cat /opt/build-id')).toMatch(UUID);
  });

  it('point 6: writes under /workspace, /layers and /platform neither fail nor persist; other writes do', async () => {
    await built();
    expect(await sh(apps.conf, 'cat /opt/ext.txt')).toBe('kept');
    expect(await sh(apps.conf, 'for f in /workspace/ext-app.txt /layers/ext /platform/env/EXT /platform; do [ -e $f ] && echo "$f present"; done; echo done')).toBe('done');
    expect(await sh(apps.conf, 'cat /workspace/app.txt')).not.toBe('');
  });

  it("point 8: the extension layer's history is its RUN instruction; kiln's LABEL steps are neither there nor in the output", async () => {
    const { lines } = await built();
    const history = (await run('docker', ['history', '--no-trunc', '--format', '{{.CreatedBy}}', apps.conf])).stdout.split('\n');
    expect(history).toContain(`Layer: '${WRITER.split('\n')[4] ?? ''}', Created by extension: kiln-test/writer`);
    expect(history.some((h) => h.includes('io.kiln'))).toBe(false);
    const extLines = lines.filter((l) => l.startsWith('[kiln-test/writer] '));
    expect(extLines.some((l) => /Step \d+\/\d+ : RUN/.test(l))).toBe(true);
    expect(extLines.some((l) => l.includes('LABEL') || l.includes('io.kiln'))).toBe(false);
    expect(extLines.filter((l) => / Step \d+\/\d+ : /.test(l)).every((l) => / Step \d+\/6 : /.test(l))).toBe(true);
  });

  it('point 11: an erroring extension detect is named with its exit code, after its output', async () => {
    const { lines, groupExtensions } = await built();
    const output = lines.indexOf('[kiln-test/erring] erring detect says why');
    expect(output).toBeGreaterThanOrEqual(0);
    expect(lines.indexOf('err: kiln-test/erring@1.0.0 (7)')).toBeGreaterThan(output);
    expect(groupExtensions).toEqual(['kiln-test/writer']);
  });

  it('point 4 and 11: absent run.toml images are found through their mirrors (default and switched), the summary names the switch, and rebase uses the mirror', async () => {
    const { out, lines, facts } = await build(builders.mirror, apps.mirror);
    const mirrorB = (await engine.inspectImage(runs.mirrorB)) as ImageInfo;
    const app = (await engine.inspectImage(apps.mirror)) as ImageInfo;
    expect(lines).toContain(`Run image ${runs.absentA} is not in the Docker daemon; using its mirror ${runs.mirrorA}`);
    expect(lines).toContain(`Run image ${runs.absentB} is not in the Docker daemon; using its mirror ${runs.mirrorB}`);
    expect(app.layers.slice(0, mirrorB.layers.length)).toEqual(mirrorB.layers);
    const md = JSON.parse(app.config.labels['io.buildpacks.lifecycle.metadata'] ?? '{}') as { runImage?: { image?: string; mirrors?: string[]; reference?: string } };
    expect(md.runImage?.image).toBe(runs.absentB);
    expect(md.runImage?.mirrors).toEqual(['kiln-test/nowhere:1', runs.mirrorB]);
    expect(md.runImage?.reference).toBe(mirrorB.id);
    const summary = summaryOf(apps.mirror, { ...out, processes: [], runImage: out.runImage }, facts, undefined, Date.now());
    expect(formatSummary(summary, makeStyle(false)).join('\n')).toContain(`kiln-test/switcher@1.0.0: switched the run image to ${runs.absentB}`);
    // Rebase: the recorded image is absent, its mirror now names a patched run image.
    const patched = await markedRunImage(runs.mirrorB, 'b2');
    const rebased = await rebaseApp({ engine, reporter: { emit: () => undefined } }, { image: apps.mirror });
    expect(rebased.runImage).toBe(runs.mirrorB);
    expect(rebased.runImageId).toBe(patched.id);
    expect(await sh(apps.mirror, 'cat /opt/marker')).toBe('b2');
    // --run-image naming the recorded (absent) image: its mirrors are tried too.
    const again = await rebaseApp({ engine, reporter: { emit: () => undefined } }, { image: apps.mirror, runImage: runs.absentB });
    expect(again.runImage).toBe(runs.mirrorB);
    expect(again.runImageId).toBe(patched.id);
  });
});

describe('extendImage user and build_id (issue 15 points 3 and 11)', () => {
  const ctx = () => ({ engine, reporter: { emit: () => undefined }, labels: testLabels({ 'io.kiln.test.file': 'extend-conformance' }), ids: { newId: () => 'not-a-uuid' } });
  const context = (): Promise<Buffer> => makeTar([{ path: 'README', content: 'ctx\n' }]);

  it('build_id is a fresh UUID whatever the session ids look like', async () => {
    const df = ['ARG base_image', 'FROM ${base_image}', 'ARG build_id=0', 'USER root', 'RUN echo "$build_id" > /bid', 'USER 1000:1000', ''].join('\n');
    const r = await extendImage(ctx(), { kind: 'build', baseImage: bases().build, steps: [{ extensionId: 'x', dockerfile: df, args: [], context: await context() }], network: 'none' });
    expect(r.steps[0]?.buildId).toMatch(UUID);
    expect(await sh(r.imageId, 'cat /bid')).toBe(r.steps[0]?.buildId);
  });

  it('a Dockerfile leaving root gets the warning, and the next Dockerfile receives root as user_id', async () => {
    const root = ['ARG base_image', 'FROM ${base_image}', 'USER root', ''].join('\n');
    const back = ['ARG base_image', 'FROM ${base_image}', 'ARG user_id', 'RUN echo "$user_id" > /seen-user', 'USER 1001:1000', 'LABEL io.buildpacks.rebasable=true', ''].join('\n');
    const c = await context();
    const r = await extendImage(ctx(), { kind: 'run', baseImage: bases().run, steps: [{ extensionId: 'rooty', dockerfile: root, args: [], context: c }, { extensionId: 'back', dockerfile: back, args: [], context: c }], network: 'none' });
    expect(r.warnings).toContain(`rooty's run.Dockerfile changed the user from "${bases().runUid}:${bases().runGid}" to "root"; root must not be the final user, so a later extension's Dockerfile has to set a non-root USER`);
    expect(await sh(r.imageId, 'cat /seen-user')).toBe('root');
  });
});
