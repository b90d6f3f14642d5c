/**
 * SIGINT / SIGTERM during each phase (issue 8, docs/reliability.md "Interruption"): detect, generate,
 * extend, build and export. The CLI runs in-process; when its output shows the phase (marker lines the
 * matrix modules print, or the phase header), the signal handlers `kiln build` installed are called —
 * the same code path as a real signal, without signalling the test process. Each case asserts exit 130
 * within a few seconds, nothing of the session left, the previous app image still tagged and runnable,
 * and the next build of the same image succeeding with the cache volume still there.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, runId, testName } from '../helpers/test-labels.js';
import { runCli, sessionLeftovers } from '../fixtures/bad-input/run-cli.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const fixtures = join(import.meta.dirname, '../fixtures/bad-input');
const bases = useBusyboxImages(engine, { name: 'interrupt' });
const builderTag = `kiln-test/interrupt-builder:${testName('b')}`;
const appTag = `kiln-test/interrupt-app:${testName('a')}`;
const fileLabel = { 'io.kiln.test': runId, 'io.kiln.test.file': testName('interrupt') };
const KILN_LABELS = Object.entries(fileLabel).map(([k, v]) => `${k}=${v}`).join(',');
let previousId = '';

const build = (kilnCase: string | undefined, onOutput?: (all: string) => void, extra: string[] = []): ReturnType<typeof runCli> =>
  runCli(['build', appTag, '--builder', builderTag, '--path', join(fixtures, 'app'), '--verbose', ...extra, ...(kilnCase !== undefined ? ['--env', `KILN_CASE=${kilnCase}`] : [])], { KILN_LABELS }, onOutput);

beforeAll(async () => {
  await makeTestBuilder(engine, {
    buildpacks: [join(fixtures, 'matrix-bp')],
    extensions: [join(fixtures, 'matrix-ext')],
    orderToml: '[[order]]\n[[order.group]]\nid = "kiln-test/matrix"\nversion = "1.0.0"\n\n[[order-extensions]]\n[[order-extensions.group]]\nid = "kiln-test/matrix-ext"\nversion = "1.0.0"\n',
    runImage: bases().run,
    tag: builderTag,
    labels: {},
    baseImage: bases().build,
  });
  const first = await build(undefined);
  expect(first.code, first.out).toBe(0);
  previousId = (await engine.inspectImage(appTag))?.id ?? '';
  expect(previousId).not.toBe('');
});

afterAll(async () => {
  await engine.removeImage(appTag, { force: true });
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine, fileLabel);
});

/** [phase, signal, KILN_CASE, text that shows the phase is under way, extra wait after it] */
const CASES: [string, 'SIGINT' | 'SIGTERM', string | undefined, string, number][] = [
  ['detect', 'SIGINT', 'slow-detect', '===> DETECTING', 1500],
  ['generate', 'SIGTERM', 'gen-slow', 'marker: in generate', 0],
  ['extend', 'SIGINT', 'gen-slow-extend', 'marker: in extend', 0],
  ['build', 'SIGTERM', 'slow-build', 'marker: in build', 0],
  ['export', 'SIGINT', undefined, '===> EXPORTING', 0],
];

describe('interruption per phase', () => {
  it.each(CASES)('%s + %s: exit 130 promptly, nothing left, previous image and cache usable', async (_phase, signal, kilnCase, marker, delay) => {
    const before = new Set(process.listeners(signal));
    let firedAt = 0;
    const r = await build(kilnCase, (all) => {
      if (firedAt !== 0 || !all.includes(marker)) return;
      firedAt = -1;
      setTimeout(() => {
        firedAt = Date.now();
        // Only the handlers kiln build installed: vitest's own are left alone.
        for (const l of process.listeners(signal)) if (!before.has(l)) (l as (s: NodeJS.Signals) => void)(signal);
      }, delay);
      // --no-reuse: the export case has the first build's inputs, which would otherwise reuse its image.
    }, ['--no-reuse']);
    expect(firedAt, r.out).toBeGreaterThan(0);
    expect(r.code, r.out).toBe(130);
    expect(Date.now() - firedAt).toBeLessThan(15_000);
    expect(await sessionLeftovers(engine, fileLabel)).toEqual({ containers: [], images: [], volumes: [] });
    expect((await engine.inspectImage(appTag))?.id).toBe(previousId);
    const { stdout } = await run('docker', ['run', '--rm', '--pull', 'never', '--network', 'none', '--label', `io.kiln.test=${runId}`, appTag]);
    expect(stdout.trim()).toBe('hello');
  });

  it('the next build succeeds and still finds the cache volume', async () => {
    const volumesBefore = (await engine.listVolumes({ labels: [`io.kiln.test.file=${fileLabel['io.kiln.test.file']}`] })).filter((v) => v.startsWith('kiln-cache-'));
    expect(volumesBefore.length).toBe(1);
    const r = await build(undefined);
    expect(r.code, r.out).toBe(0);
    const volumesAfter = (await engine.listVolumes({ labels: [`io.kiln.test.file=${fileLabel['io.kiln.test.file']}`] })).filter((v) => v.startsWith('kiln-cache-'));
    expect(volumesAfter).toEqual(volumesBefore);
    expect(await sessionLeftovers(engine, fileLabel)).toEqual({ containers: [], images: [], volumes: [] });
  });
});
