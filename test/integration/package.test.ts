/**
 * `kiln buildpack package` / `kiln extension package` (issue 7, distribution.md, "Buildpackage"): packages as images and
 * .cnb files carry the Distribution API labels and one module layer; builder.toml takes them as uris
 * (docker://<image>, a bare image name, a .cnb file) and a build with that builder runs the packaged code.
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/build-app.js';
import { createBuilder } from '../../src/app/create-builder.js';
import { packageModule } from '../../src/app/package-module.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { KilnError } from '../../src/errors.js';
import { readTarFiles } from '../../src/image/tar-files.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { cleanupByLabel, testLabels, testName } from '../helpers/test-labels.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const fixtures = join(import.meta.dirname, '../fixtures/build');
const bases = useBusyboxImages(engine);
const tag = (what: string): string => `kiln-test/package-${what}:${testName('p')}`;
const pkgFirst = tag('first');
const builderTag = tag('builder');
const appTag = tag('app');
let tmp = '';
let appId = '';

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-package-test-'));
  await chmod(tmp, 0o755);
});

afterAll(async () => {
  for (const t of [appTag, builderTag, pkgFirst, appId]) if (t !== '') await engine.removeImage(t, { force: true });
  await cleanupByLabel(engine);
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
});

describe('kiln buildpack/extension package', () => {
  it('packages a buildpack as an image with the Distribution API labels and one module layer', async () => {
    const out = await packageModule(engine, { kind: 'buildpack', dir: join(fixtures, 'buildpacks/first'), target: pkgFirst, labels: testLabels() });
    const info = await engine.inspectImage(pkgFirst);
    expect(info?.id).toBe(out.imageId);
    expect(info?.layers.length).toBe(1);
    const layers = JSON.parse(info?.config.labels['io.buildpacks.buildpack.layers'] ?? '{}') as unknown;
    expect(layers).toEqual({ 'kiln-test/first': { '1.0.0': { api: '0.10', layerDiffID: info?.layers[0], name: 'First' } } });
    expect(JSON.parse(info?.config.labels['io.buildpacks.buildpackage.metadata'] ?? '{}')).toEqual({ id: 'kiln-test/first', version: '1.0.0', name: 'First' });
    // Packaging again gives the same image (reproducible layer and config).
    expect((await packageModule(engine, { kind: 'buildpack', dir: join(fixtures, 'buildpacks/first'), target: pkgFirst, labels: testLabels() })).imageId).toBe(out.imageId);
  });

  it('packages a buildpack and an extension as .cnb files', async () => {
    await packageModule(engine, { kind: 'buildpack', dir: join(fixtures, 'buildpacks/second'), target: join(tmp, 'second.cnb'), file: true });
    const ext = join(tmp, 'ext');
    await mkdir(join(ext, 'generate'), { recursive: true });
    await writeFile(join(ext, 'extension.toml'), 'api = "0.10"\n\n[extension]\nid = "kiln-test/pkg-ext"\nversion = "0.3.0"\n');
    await writeFile(join(ext, 'generate', 'run.Dockerfile'), 'ARG base_image\nFROM ${base_image}\nUSER root\nRUN echo packaged-ext > /pkg-ext\nUSER 1001:1000\n');
    await chmod(ext, 0o755);
    await packageModule(engine, { kind: 'extension', dir: ext, target: join(tmp, 'ext.cnb'), file: true });
    // An OCI image layout: oci-layout, index.json -> manifest -> config + one uncompressed layer.
    const files = await readTarFiles(createReadStream(join(tmp, 'ext.cnb')));
    const blob = (digest: string): Buffer => files.get(`blobs/sha256/${digest.replace('sha256:', '')}`) ?? Buffer.alloc(0);
    expect(JSON.parse(files.get('oci-layout')?.toString() ?? '{}')).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(files.get('index.json')?.toString() ?? '{}') as { manifests: { digest: string }[] };
    const manifest = JSON.parse(blob(index.manifests[0]?.digest ?? '').toString()) as { config: { digest: string }; layers: { digest: string; mediaType: string }[] };
    expect(manifest.layers.map((l) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar']);
    const config = JSON.parse(blob(manifest.config.digest).toString()) as { config: { Labels: Record<string, string> } };
    expect(Object.keys(JSON.parse(config.config.Labels['io.buildpacks.extension.layers'] ?? '{}') as object)).toEqual(['kiln-test/pkg-ext']);
    const layer = await readTarFiles(blob(manifest.layers[0]?.digest ?? ''));
    expect(layer.get('cnb/extensions/kiln-test_pkg-ext/0.3.0/generate/run.Dockerfile')?.toString()).toContain('packaged-ext');
  });

  it('builder.toml takes packages as uris (docker://, a bare image name, .cnb) and a build runs the packaged modules', async () => {
    const config = join(tmp, 'builder.toml');
    await writeFile(
      config,
      [
        `[[buildpacks]]\nuri = "docker://${pkgFirst}"\n`,
        `[[buildpacks]]\nuri = "${join(tmp, 'second.cnb')}"\n`,
        `[[extensions]]\nuri = "${join(tmp, 'ext.cnb')}"\n`,
        '[[order]]\n[[order.group]]\nid = "kiln-test/first"\nversion = "1.0.0"\n[[order.group]]\nid = "kiln-test/second"\nversion = "2.0.0"\n',
        '[[order-extensions]]\n[[order-extensions.group]]\nid = "kiln-test/pkg-ext"\nversion = "0.3.0"\n',
        `[build]\nimage = "${bases().build}"\n`,
        `[[run.images]]\nimage = "${bases().run}"\n`,
      ].join('\n'),
    );
    await createBuilder(engine, { imageName: builderTag, configPath: config, labels: testLabels(), kilnVersion: '0.1.0' });
    const builder = await engine.inspectImage(builderTag);
    const bpLayers = JSON.parse(builder?.config.labels['io.buildpacks.buildpack.layers'] ?? '{}') as Record<string, unknown>;
    expect(Object.keys(bpLayers).sort()).toEqual(['kiln-test/first', 'kiln-test/second']);
    let n = 0;
    const out = await buildApp(
      { engine, reporter: { emit: () => undefined }, ids: { newId: () => `pk${Date.now().toString(36)}${n++}` } },
      { image: appTag, builder: builderTag, path: join(fixtures, 'apps/simple'), env: {}, volumes: [], labels: testLabels() },
    );
    appId = out.imageId;
    expect(out.group.map((g) => g.id)).toEqual(['kiln-test/first', 'kiln-test/second']);
    expect((await run('docker', ['run', '--rm', '--network', 'none', appTag])).stdout.trim()).toBe('greet: from web');
    expect((await run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'cat', appTag, '/pkg-ext'])).stdout.trim()).toBe('packaged-ext');
  }, 300_000);

  it('a bare image name works as a uri; a missing package image is a config error naming it', async () => {
    const config = join(tmp, 'builder-bare.toml');
    const missing = tag('missing');
    await writeFile(config, `[[buildpacks]]\nuri = "docker://${missing}"\n\n[[order]]\n[[order.group]]\nid = "kiln-test/first"\n\n[build]\nimage = "${bases().build}"\n\n[[run.images]]\nimage = "${bases().run}"\n`);
    const err = await createBuilder(engine, { imageName: builderTag, configPath: config, labels: testLabels(), kilnVersion: '0.1.0' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(2);
    expect((err as KilnError).message).toContain(missing);
    await writeFile(config, `[[buildpacks]]\nuri = "${pkgFirst}"\n\n[[order]]\n[[order.group]]\nid = "kiln-test/first"\n\n[build]\nimage = "${bases().build}"\n\n[[run.images]]\nimage = "${bases().run}"\n`);
    const ok = await createBuilder(engine, { imageName: builderTag, configPath: config, labels: testLabels(), kilnVersion: '0.1.0' });
    expect(ok.imageId).toMatch(/^sha256:/);
  }, 120_000);
});
