/**
 * Large apps (issue 14, point 9): the app source is streamed into the app volume, so a file over 2 GiB
 * (sparse here, to save disk) builds and keeps its size in the image, and an app of 50,000 small files
 * builds with every file in the image. How long they take is measured by `npm run bench`
 * (bench/app-upload.mjs), not here.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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
const bases = useBusyboxImages(engine, { name: 'large-app' });
const builderTag = `kiln-test/large-app-builder:${testName('b')}`;
const fileLabel = { 'io.kiln.test': runId, 'io.kiln.test.file': testName('large-app') };
const KILN_LABELS = Object.entries(fileLabel).map(([k, v]) => `${k}=${v}`).join(',');
const BIG = 2 * 1024 * 1024 * 1024 + 12345;
const SMALL_FILES = 50_000;
let tmp = '';
const images: string[] = [];

async function inImage(image: string, script: string): Promise<string> {
  const { stdout } = await run('docker', ['run', '--rm', '--pull', 'never', '--network', 'none', '--label', `io.kiln.test=${runId}`, '--entrypoint', '', image, 'sh', '-c', script]);
  return stdout.trim();
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-large-app-'));
  const bp = join(tmp, 'bp');
  await mkdir(join(bp, 'bin'), { recursive: true });
  await writeFile(join(bp, 'buildpack.toml'), 'api = "0.10"\n\n[buildpack]\nid = "kiln-test/large-app"\nversion = "1.0.0"\n\n[[targets]]\nos = "linux"\n');
  await writeFile(join(bp, 'bin', 'detect'), '#!/bin/sh\nexit 0\n');
  await writeFile(join(bp, 'bin', 'build'), '#!/bin/sh\nset -eu\nprintf \'[[processes]]\\ntype = "web"\\ncommand = ["true"]\\ndefault = true\\n\' > "$CNB_LAYERS_DIR/launch.toml"\n');
  await chmod(join(bp, 'bin', 'detect'), 0o755);
  await chmod(join(bp, 'bin', 'build'), 0o755);
  await makeTestBuilder(engine, {
    buildpacks: [bp],
    extensions: [],
    orderToml: '[[order]]\n[[order.group]]\nid = "kiln-test/large-app"\nversion = "1.0.0"\n',
    runImage: bases().run,
    tag: builderTag,
    labels: {},
    baseImage: bases().build,
    uid: bases().uid,
    gid: bases().gid,
  });
}, 600_000);

afterAll(async () => {
  for (const image of images) await engine.removeImage(image, { force: true });
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine, fileLabel);
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
}, 600_000);

describe('large apps are streamed into the build', () => {
  it('an app with a file over 2 GiB builds, and the file has its size in the image', async () => {
    const app = join(tmp, 'big-app');
    await mkdir(app);
    await writeFile(join(app, 'big.bin'), '');
    await truncate(join(app, 'big.bin'), BIG);
    await writeFile(join(app, 'small.txt'), 'small\n');
    const image = `kiln-test/large-app-big:${testName('i')}`;
    images.push(image);
    const r = await runCli(['build', image, '--builder', builderTag, '--path', app], { KILN_LABELS });
    expect(r.code, r.out).toBe(0);
    expect(await inImage(image, 'stat -c "%s %u" /workspace/big.bin; cat /workspace/small.txt')).toBe(`${BIG} ${bases().uid}\nsmall`);
    expect(await sessionLeftovers(engine, fileLabel)).toEqual({ containers: [], images: [], volumes: [] });
  }, 900_000);

  it(`an app of ${SMALL_FILES} small files builds with every file in the image`, async () => {
    const app = join(tmp, 'many-files');
    await mkdir(app);
    for (let d = 0; d < SMALL_FILES / 100; d++) {
      const dir = join(app, `d${d}`);
      await mkdir(dir);
      await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(join(dir, `f${f}.txt`), `${d}/${f}\n`)));
    }
    const image = `kiln-test/large-app-many:${testName('i')}`;
    images.push(image);
    const r = await runCli(['build', image, '--builder', builderTag, '--path', app], { KILN_LABELS });
    expect(r.code, r.out).toBe(0);
    expect(await inImage(image, 'find /workspace -type f | wc -l; cat /workspace/d499/f99.txt')).toBe(`${SMALL_FILES}\n499/99`);
  }, 900_000);
});
