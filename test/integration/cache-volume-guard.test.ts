/**
 * `--cache-volume` naming a volume kiln did not create (issue 14 point 6): kiln refuses it with exit 3
 * naming the volume, with or without `--clear-cache`, and the user's data in it is untouched.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { runCli, sessionLeftovers } from '../fixtures/bad-input/run-cli.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, runId, testLabels, testName } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const fixtures = join(import.meta.dirname, '../fixtures/bad-input');
const bases = useBusyboxImages(engine, { name: 'cacheguard' });
const builderTag = `kiln-test/cacheguard-builder:${testName('b')}`;
const appTag = `kiln-test/cacheguard-app:${testName('a')}`;
const fileLabel = { 'io.kiln.test': runId, 'io.kiln.test.file': testName('cacheguard') };
const KILN_LABELS = Object.entries(fileLabel).map(([k, v]) => `${k}=${v}`).join(',');
const userVolume = testName('userdata');

/** The text of /data/precious.txt in the volume ('' when it is gone). */
async function precious(): Promise<string> {
  const lines: string[] = [];
  await engine.runContainer({ image: bases().build, cmd: ['sh', '-c', 'cat /data/precious.txt 2>/dev/null; true'], user: '0:0', mounts: [{ type: 'volume', source: userVolume, target: '/data' }], labels: testLabels(), onLine: (_s, l) => lines.push(l) });
  return lines.join('\n');
}

beforeAll(async () => {
  await makeTestBuilder(engine, {
    buildpacks: [join(fixtures, 'matrix-bp')],
    extensions: [],
    orderToml: '[[order]]\n[[order.group]]\nid = "kiln-test/matrix"\nversion = "1.0.0"\n',
    runImage: bases().run,
    tag: builderTag,
    labels: {},
    baseImage: bases().build,
  });
  // The user's own volume: only the test label (so the test can sweep it), no kiln label.
  await engine.createVolume(userVolume, testLabels());
  const code = await engine.runContainer({ image: bases().build, cmd: ['sh', '-c', 'echo keep me > /data/precious.txt'], user: '0:0', mounts: [{ type: 'volume', source: userVolume, target: '/data' }], labels: testLabels() });
  expect(code.exitCode).toBe(0);
});

afterAll(async () => {
  await engine.removeImage(appTag, { force: true });
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine, fileLabel);
  await cleanupByLabel(engine);
});

describe('--cache-volume that is not a kiln cache volume', () => {
  it.each([
    ['with --clear-cache', ['--clear-cache']],
    ['reused as is', []],
  ])('%s: refused with exit 3 naming the volume; its data stays', async (_what, extra) => {
    const r = await runCli(['build', appTag, '--builder', builderTag, '--path', join(fixtures, 'app'), '--cache-volume', userVolume, ...extra], { KILN_LABELS });
    expect(r.code, r.out).toBe(3);
    expect(r.out).toContain(`volume ${userVolume} exists but is not a kiln cache volume`);
    expect(r.out).toContain('--cache-volume');
    expect(await engine.volumeExists(userVolume)).toBe(true);
    expect(await precious()).toBe('keep me');
    expect(await engine.inspectImage(appTag)).toBeUndefined();
    expect(await sessionLeftovers(engine, fileLabel)).toEqual({ containers: [], images: [], volumes: [] });
  });

  it('a cache volume kiln created is still cleared and reused', async () => {
    const mine = testName('kilncache');
    const first = await runCli(['build', appTag, '--builder', builderTag, '--path', join(fixtures, 'app'), '--cache-volume', mine], { KILN_LABELS });
    expect(first.code, first.out).toBe(0);
    const again = await runCli(['build', appTag, '--builder', builderTag, '--path', join(fixtures, 'app'), '--cache-volume', mine, '--clear-cache'], { KILN_LABELS });
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain(`Cache volume ${mine} (cleared)`);
    await engine.removeVolume(mine);
  });
});
