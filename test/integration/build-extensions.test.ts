/**
 * `kiln build` with image extensions on the real daemon (issue 4 "Done when"): a build.Dockerfile that
 * installs a tool a buildpack then uses, a run.Dockerfile whose file is in the app image, a FROM-only
 * run.Dockerfile switching the run image, an erroring extension detect skipped, an invalid Dockerfile
 * rejected with its line, a run image left as root refused (102), and no session leftovers.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, SESSION_LABEL, type BuildRequest } from '../../src/app/build-app.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { KilnError } from '../../src/errors.js';
import { INPUT_IMAGES_LABEL, INPUT_KEY_LABEL } from '../../src/lifecycle/cache/cache-volume.js';
import type { KilnEvent } from '../../src/ports.js';
import { getBusyboxImages, useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, leftovers, testLabels, testName } from '../helpers/test-labels.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const fixtures = join(import.meta.dirname, '../fixtures/build');
const bases = useBusyboxImages(engine);
const tag = (what: string): string => `kiln-test/build-ext-${what}:${testName('x')}`;
const builders = { tool: tag('tool'), switch: tag('switch'), bad: tag('bad'), root: tag('root') };
const appTag = tag('app');
let altRun = '';
let tmp = '';
let n = 0;

const TOOL_ORDER = `[[order]]
[[order.group]]
id = "kiln-test/uses-tool"
version = "1.0.0"

[[order-extensions]]
[[order-extensions.group]]
id = "kiln-test/fails"
version = "1.0.0"
[[order-extensions.group]]
id = "kiln-test/tool-ext"
version = "1.0.0"
`;

/** An extension with no bin/ at all: its static generate/<file> is its output (image_extension.md, "Image Extension Interface"). */
async function staticExtension(id: string, file: string, dockerfile: string): Promise<string> {
  const dir = join(tmp, id.replace('/', '_'));
  await mkdir(join(dir, 'generate'), { recursive: true });
  await writeFile(join(dir, 'extension.toml'), `api = "0.10"\n\n[extension]\nid = "${id}"\nversion = "1.0.0"\n`);
  await writeFile(join(dir, 'generate', file), dockerfile);
  return dir;
}

function orderWith(ext: string): string {
  return `[[order]]\n[[order.group]]\nid = "kiln-test/first"\nversion = "1.0.0"\n\n[[order-extensions]]\n[[order-extensions.group]]\nid = "${ext}"\nversion = "1.0.0"\n`;
}

function request(builder: string, over: Partial<BuildRequest> = {}): BuildRequest {
  return { image: appTag, builder, path: join(fixtures, 'apps/simple'), env: { USER_VAR: 'from-user' }, volumes: [], labels: testLabels(), ...over };
}

async function build(builder: string, over: Partial<BuildRequest> = {}) {
  const events: KilnEvent[] = [];
  const out = await buildApp({ engine, reporter: { emit: (e) => events.push(e) }, ids: { newId: () => `e${Date.now().toString(36)}${n++}` } }, request(builder, over));
  const lines = events.flatMap((e) => (e.type === 'module-line' ? [`[${e.module}] ${e.line}`] : e.type === 'debug' || e.type === 'info' || e.type === 'warning' ? [e.message] : []));
  return { out, lines, events };
}

async function failure(builder: string): Promise<KilnError> {
  const events: KilnEvent[] = [];
  const session = `f${Date.now().toString(36)}${n++}`;
  const err = await buildApp({ engine, reporter: { emit: (e) => events.push(e) }, ids: { newId: () => session } }, request(builder)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KilnError);
  // Cleanup also runs on failure: nothing of the session is left (issue 4 item 7).
  expect(await leftovers(engine, { [SESSION_LABEL]: session })).toEqual({ containers: [], images: [], volumes: [] });
  return err as KilnError;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-build-ext-'));
  altRun = (await getBusyboxImages(engine, { name: 'alt' })).run;
  const bp = (b: string): string => join(fixtures, 'buildpacks', b);
  await makeTestBuilder(engine, { buildpacks: [bp('uses-tool')], extensions: [join(fixtures, 'extensions/fails'), join(fixtures, 'extensions/tool')], orderToml: TOOL_ORDER, runImage: bases().run, tag: builders.tool, labels: {} });
  const sw = await staticExtension('kiln-test/switch', 'run.Dockerfile', `FROM ${altRun}\n`);
  await makeTestBuilder(engine, { buildpacks: [bp('first')], extensions: [sw], orderToml: orderWith('kiln-test/switch'), runImage: bases().run, tag: builders.switch, labels: {} });
  const bad = await staticExtension('kiln-test/bad', 'build.Dockerfile', 'FROM ${base_image}\nRUN true\n');
  await makeTestBuilder(engine, { buildpacks: [bp('first')], extensions: [bad], orderToml: orderWith('kiln-test/bad'), runImage: bases().run, tag: builders.bad, labels: {} });
  const root = await staticExtension('kiln-test/root', 'run.Dockerfile', 'ARG base_image\nFROM ${base_image}\nUSER root\nRUN touch /root-was-here\n');
  await makeTestBuilder(engine, { buildpacks: [bp('first')], extensions: [root], orderToml: orderWith('kiln-test/root'), runImage: bases().run, tag: builders.root, labels: {} });
  for (const d of [sw, bad, root]) await chmod(d, 0o755);
});

afterAll(async () => {
  await engine.removeImage(appTag, { force: true });
  for (const b of Object.values(builders)) await engine.removeImage(b, { force: true });
  await cleanupByLabel(engine);
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
});

describe('kiln build with extensions', () => {
  it('build.Dockerfile installs a tool the buildpack uses; run.Dockerfile adds a file to the app image; an erroring extension detect is skipped', async () => {
    const { out, lines } = await build(builders.tool);
    expect(out.groupExtensions.map((e) => e.id)).toEqual(['kiln-test/tool-ext']);
    expect(out.group.map((g) => g.id)).toEqual(['kiln-test/uses-tool']);
    expect(lines).toContain('[kiln-test/tool-ext] tool-ext detect: USER_VAR=from-user');
    expect(lines).toContain('[kiln-test/uses-tool] exttool ran: from uses-tool');
    // ENV of a build.Dockerfile other than PATH-like vars does not reach buildpacks (platform.md, "Buildpack Environment"); the
    // entry the extension provided is consumed (image_extension.md, "Detection").
    expect(lines.some((l) => l.startsWith('[kiln-test/uses-tool] uses-tool build: NOT_FOR_BUILDPACKS=unset plan=') && !l.includes('exttool'))).toBe(true);
    expect(lines.some((l) => l.includes('fails generate must never run'))).toBe(false);
    // Session and test labels of the intermediate extended run image do not leak into the app image:
    // kiln's only labels on it are the input key's (app/input-key.ts).
    const labels = (await engine.inspectImage(appTag))?.config.labels ?? {};
    expect(Object.keys(labels).filter((k) => k.startsWith('io.kiln.')).sort()).toEqual([INPUT_IMAGES_LABEL, INPUT_KEY_LABEL].sort());
    expect(labels['io.buildpacks.rebasable']).toBe('true');
    const shown = await run('docker', ['run', '--rm', '--network', 'none', appTag]);
    expect(shown.stdout.trim().split('\n')).toEqual(['exttool ran: baked', 'added by the run extension', '1001']);
    const left = await leftovers(engine, { [SESSION_LABEL]: out.sessionId });
    expect(left.containers).toEqual([]);
    expect(left.volumes).toEqual([]);
    expect(left.images.filter((i) => i !== out.imageId)).toEqual([]);
  });

  it('a FROM-only run.Dockerfile switches the run image', async () => {
    const { out } = await build(builders.switch);
    expect(out.runImage).toBe(altRun);
    const app = await engine.inspectImage(appTag);
    const alt = await engine.inspectImage(altRun);
    expect(app?.layers.slice(0, alt?.layers.length)).toEqual(alt?.layers);
    const md = JSON.parse(app?.config.labels['io.buildpacks.lifecycle.metadata'] ?? '{}') as { runImage?: { image?: string } };
    expect(md.runImage?.image).toBe(altRun);
  });

  it('an invalid build.Dockerfile is rejected with its line (92)', async () => {
    const err = await failure(builders.bad);
    expect(err.exitCode).toBe(92);
    expect(err.message).toMatch(/build\.Dockerfile:\d+/);
  });

  it('a run image left as root is refused (102)', async () => {
    const err = await failure(builders.root);
    expect(err.exitCode).toBe(102);
    expect(err.message).toMatch(/root/);
  });
});
