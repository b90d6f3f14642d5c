/**
 * `node bin/kiln.js build` as a user runs it (needs `npm run build` first, as CI does): plain output with
 * phase headers and [module] prefixes, exit codes, and Ctrl-C (SIGINT) mid-build leaving nothing behind.
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { defaultCacheVolume } from '../../src/lifecycle/cache/cache-volume.js';
import { cleanupByLabel, leftovers, runId, testName } from '../helpers/test-labels.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const root = join(import.meta.dirname, '../..');
const fixtures = join(root, 'test/fixtures/build');
const bases = useBusyboxImages(engine);
const builderTag = `kiln-test/build-cli-builder:${testName('b')}`;
const appTag = `kiln-test/build-cli-app:${testName('a')}`;
/** A label only this file's CLI runs carry, so leftovers can be counted exactly. */
const cliLabel = { 'io.kiln.test': runId, 'io.kiln.test.file': testName('cli') };
const env = { ...process.env, KILN_LABELS: Object.entries(cliLabel).map(([k, v]) => `${k}=${v}`).join(','), NO_COLOR: '1' };
const args = (image: string) => ['bin/kiln.js', 'build', image, '--builder', builderTag, '--path', join(fixtures, 'apps/simple'), '--env', 'USER_VAR=from-cli'];

beforeAll(async () => {
  await makeTestBuilder(engine, {
    buildpacks: ['first', 'second'].map((b) => join(fixtures, 'buildpacks', b)),
    extensions: [],
    orderToml: '[[order]]\n[[order.group]]\nid = "kiln-test/first"\nversion = "1.0.0"\n[[order.group]]\nid = "kiln-test/second"\nversion = "2.0.0"\n',
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

describe('kiln build (CLI)', () => {
  it('prints phase headers and prefixed buildpack output, exits 0 and writes the image', async () => {
    const { stderr } = await run('node', args(appTag), { cwd: root, env });
    expect(stderr).toContain('===> DETECTING');
    expect(stderr).toContain('===> BUILDING');
    expect(stderr).toContain('===> EXPORTING');
    expect(stderr).toContain('[kiln-test/first] first build: USER_VAR=from-cli');
    expect(stderr).toContain(`Successfully built image ${appTag}`);
    expect(await engine.inspectImage(appTag)).toBeDefined();
    // The build's cache volume stays on purpose (issue 5: reused by the next build of this image).
    expect(await leftovers(engine, cliLabel)).toEqual({ containers: [], images: [], volumes: [defaultCacheVolume(appTag)] });
  });

  it('Ctrl-C (SIGINT) mid-build exits 130 and removes everything it created', async () => {
    const image = `${appTag}-interrupted`;
    const child = spawn('node', args(image), { cwd: root, env });
    let stderr = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('first build:') && !child.killed) child.kill('SIGINT');
      });
      child.on('close', (c) => resolve(c));
    });
    expect(stderr).toContain('first build:');
    expect(code).toBe(130);
    // Only the first test's cache volume (kept on purpose) is left; this build's new one is removed.
    const left = await leftovers(engine, cliLabel);
    expect({ ...left, volumes: left.volumes.filter((v) => v !== defaultCacheVolume(appTag)) }).toEqual({ containers: [], images: [], volumes: [] });
    expect(await engine.inspectImage(image)).toBeUndefined();
  });

  it('a missing builder exits 5 with a hint', async () => {
    const err = await run('node', ['bin/kiln.js', 'build', appTag, '--builder', 'kiln-test/no-such-builder:1'], { cwd: root, env }).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(5);
    expect((err as { stderr: string }).stderr).toContain('does not exist');
  });
});
