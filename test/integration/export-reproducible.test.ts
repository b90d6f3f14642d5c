/**
 * Same input, same image id (issue 16 point 2; docs/architecture.md, "Export: how layers reach the
 * daemon"): the same app built twice, each time with a fresh cache volume and with the first image
 * removed in between, gives the same image id. The app has a big launch layer (over COMMIT_THRESHOLD,
 * so the daemon commits it), a small one (a temp file) and the app layer, so both transports are in it.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/build-app.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { COMMIT_THRESHOLD } from '../../src/lifecycle/export/transport.js';
import type { KilnEvent } from '../../src/ports.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, testLabels, testName } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const bases = useBusyboxImages(engine);
const builderTag = `kiln-test/repro-builder:${testName('b')}`;
const appTag = `kiln-test/repro-app:${testName('a')}`;
const cacheVolumes = [testName('repro-cache-1'), testName('repro-cache-2')];
const BIG = COMMIT_THRESHOLD + 3 * 1024 * 1024 + 17;
let tmp = '';
let appDir = '';

const BUILD = [
  '#!/bin/sh',
  'set -eu',
  'big="$CNB_LAYERS_DIR/big"',
  'mkdir -p "$big/bin" "$big/share/deep/er" "$CNB_LAYERS_DIR/small"',
  `yes 'kiln reproducible layer' | head -c ${BIG} > "$big/bin/blob"`,
  'chmod 750 "$big/bin/blob"',
  'printf "deep" > "$big/share/deep/er/file"',
  ': > "$big/empty"',
  'ln -s bin/blob "$big/link"',
  'ln "$big/bin/blob" "$big/hard"',
  'printf "small" > "$CNB_LAYERS_DIR/small/file"',
  'printf "[types]\\nlaunch = true\\n" > "$CNB_LAYERS_DIR/big.toml"',
  'printf "[types]\\nlaunch = true\\n" > "$CNB_LAYERS_DIR/small.toml"',
  'printf \'[[processes]]\\ntype = "web"\\ncommand = ["ls"]\\ndefault = true\\n\' > "$CNB_LAYERS_DIR/launch.toml"',
].join('\n');

async function build(cacheVolume: string): Promise<{ imageId: string; layers: string[]; debug: string[] }> {
  const events: KilnEvent[] = [];
  let n = 0;
  const out = await buildApp(
    { engine, reporter: { emit: (e) => events.push(e) }, ids: { newId: () => `rp${Date.now().toString(36)}${n++}` } },
    { image: appTag, builder: builderTag, path: appDir, env: {}, volumes: [], labels: testLabels(), cacheVolume, clearCache: true, noReuse: true },
  );
  return { imageId: out.imageId, layers: out.export.layers, debug: events.flatMap((e) => (e.type === 'debug' ? [e.message] : [])) };
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-repro-'));
  appDir = join(tmp, 'app');
  await mkdir(appDir);
  await writeFile(join(appDir, 'index.txt'), 'hello\n');
  const bp = join(tmp, 'big');
  await mkdir(join(bp, 'bin'), { recursive: true });
  await writeFile(join(bp, 'buildpack.toml'), 'api = "0.10"\n\n[buildpack]\nid = "kiln-test/big"\nversion = "1.0.0"\n\n[[targets]]\nos = "linux"\n');
  await writeFile(join(bp, 'bin', 'detect'), '#!/bin/sh\nexit 0\n');
  await writeFile(join(bp, 'bin', 'build'), `${BUILD}\n`);
  for (const p of [bp, join(bp, 'bin'), join(bp, 'bin', 'detect'), join(bp, 'bin', 'build')]) await chmod(p, 0o755);
  const order = '[[order]]\n[[order.group]]\nid = "kiln-test/big"\nversion = "1.0.0"\n';
  await makeTestBuilder(engine, { buildpacks: [bp], extensions: [], orderToml: order, runImage: bases().run, tag: builderTag, labels: {} });
});

afterAll(async () => {
  await engine.removeImage(appTag, { force: true }).catch(() => undefined);
  await engine.removeImage(builderTag, { force: true }).catch(() => undefined);
  for (const v of cacheVolumes) await engine.removeVolume(v).catch(() => undefined);
  await cleanupByLabel(engine);
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
});

describe('the same input gives the same image id', () => {
  it('builds the app twice from scratch (fresh cache volume, first image removed): same image id and layers, the big layer committed both times', async () => {
    const first = await build(cacheVolumes[0] as string);
    expect(first.debug.some((m) => /layer kiln-test_big\/big: committed by the daemon/.test(m))).toBe(true);
    expect(first.debug.some((m) => /layer kiln-test_big\/small: .*committed/.test(m))).toBe(false);
    await engine.removeImage(appTag, { force: true });
    expect(await engine.inspectImage(first.imageId)).toBeUndefined();

    const second = await build(cacheVolumes[1] as string);
    expect(second.debug.some((m) => /layer kiln-test_big\/big: committed by the daemon/.test(m))).toBe(true);
    expect(second.layers).toEqual(first.layers);
    expect(second.imageId).toBe(first.imageId);
    expect((await engine.inspectImage(appTag))?.id).toBe(first.imageId);
  });
});
