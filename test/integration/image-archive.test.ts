/**
 * Image archives with only new layers on the real daemon: a layer made from a container's archive
 * stream (normaliseTarStream) and a generated layer go on top of the busybox run base; the archive
 * holds just those two tars, loads with the base's layers taken from the daemon, runs, and loads
 * again to the same id. A second image reuses the first one's layer by chain; a layer whose chain the
 * daemon lacks is refused. Everything labelled; images removed in afterAll.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { imageArchiveStream, planImageArchive, type ImageArchiveOptions } from '../../src/image/image-archive.js';
import { layerFromFiles, normaliseTarStream, writeLayerTar } from '../../src/image/layer-tar.js';
import { makeTar, readTar } from '../../src/image/tar-files.js';
import type { ImageInfo } from '../../src/ports.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { cleanupByLabel, testLabels, testName } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const labels = testLabels();
const bases = useBusyboxImages(engine);
const tags: string[] = [];
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-archive-it-'));
});
afterAll(async () => {
  for (const t of tags) await engine.removeImage(t, { force: true });
  await cleanupByLabel(engine);
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

function newTag(what: string): string {
  const t = `kiln-test/${what}:${testName('t')}`;
  tags.push(t);
  return t;
}

async function run(image: string, script: string): Promise<{ exitCode: number; out: string[] }> {
  const out: string[] = [];
  const r = await engine.runContainer({ image, cmd: ['sh', '-c', script], user: '1000:1000', labels, onLine: (_s, l) => out.push(l) });
  return { exitCode: r.exitCode, out };
}

/** The node layer: files put into a scratch container, read back with getArchive, normalised. */
async function nodeLayerFromContainer(image: string): Promise<{ diffId: string; tarPath: string }> {
  const id = await engine.createContainer({ image, cmd: ['true'], user: '0:0', labels });
  try {
    const src = await makeTar([
      { path: 'node', type: 'directory', mode: 0o755 },
      { path: 'node/bin', type: 'directory', mode: 0o755 },
      { path: 'node/bin/hello', content: '#!/bin/sh\necho hello from node layer\n', mode: 0o755 },
      { path: 'node/current', type: 'symlink', linkname: '/layers/example_node/node/bin' },
    ]);
    await engine.putArchive(id, '/tmp', src);
    const archive = await engine.getArchive(id, '/tmp/node');
    const tarPath = join(dir, 'node.tar');
    const res = await writeLayerTar(
      normaliseTarStream(archive, {
        prefix: '/layers/example_node/node',
        uid: 1000,
        gid: 1000,
        parents: [
          { path: '/layers', uid: 0, gid: 0, mode: 0o755 },
          { path: '/layers/example_node', uid: 1000, gid: 1000, mode: 0o755 },
        ],
      }),
      tarPath,
    );
    return { diffId: res.diffId, tarPath };
  } finally {
    await engine.removeContainer(id);
  }
}

describe('image archive with only new layers', () => {
  let base: ImageInfo;
  let first: ImageArchiveOptions;
  let firstId = '';
  let appLayer: { diffId: string; tarPath: string };

  beforeAll(async () => {
    const info = await engine.inspectImage(bases().run);
    if (info === undefined) throw new Error('run base missing');
    base = info;
    const node = await nodeLayerFromContainer(bases().run);
    const appPath = join(dir, 'app.tar');
    const app = await writeLayerTar(
      layerFromFiles([
        { path: '/workspace', type: 'directory', uid: 1000, gid: 1000 },
        { path: '/workspace/hello.txt', content: 'hello from the app layer\n', uid: 1000, gid: 1000 },
      ]),
      appPath,
    );
    appLayer = { diffId: app.diffId, tarPath: appPath };
    first = {
      base,
      layers: [
        { ...node, history: { created_by: "Layer: 'node', Created by buildpack: example/node@1.0" } },
        { ...appLayer, history: { created_by: 'Application Layer' } },
      ],
      config: { ...base.config, labels: { ...base.config.labels, ...labels, 'io.kiln.test.kind': 'archive' }, workingDir: '/workspace', cmd: ['cat', '/workspace/hello.txt'] },
      created: '1980-01-01T00:00:01Z',
      tags: [newTag('archive')],
    };
  });

  it('holds just the new layer tars', async () => {
    const { stream } = await imageArchiveStream(first);
    const names = (await readTar(stream, { maxBytes: 512 * 1024 * 1024 })).map((e) => e.path).filter((p) => p.endsWith('layer.tar'));
    expect(names).toHaveLength(2);
    for (const diff of base.layers) expect(names).not.toContain(`${diff.slice(7)}/layer.tar`);
  });

  it('loads on top of the base the daemon has, with the expected layers, config and files', async () => {
    const { imageId, stream } = await imageArchiveStream(first);
    const refs = await engine.loadImage(stream);
    expect(refs).toContain(first.tags[0]);
    const info = await engine.inspectImage(first.tags[0] ?? '');
    expect(info?.id).toBe(imageId);
    firstId = imageId;
    expect(info?.layers).toEqual([...base.layers, ...first.layers.map((l) => l.diffId)]);
    expect(info?.config.labels).toMatchObject({ ...labels, 'io.kiln.test.kind': 'archive' });
    expect(info?.config.workingDir).toBe('/workspace');
    expect(info?.created).toMatch(/^1980-01-01T00:00:01/);
    const r = await run(first.tags[0] ?? '', 'cat /workspace/hello.txt; /layers/example_node/node/current/hello; stat -c "%u:%g %a %n" /layers /layers/example_node /layers/example_node/node/bin/hello; readlink /layers/example_node/node/current');
    expect(r).toEqual({
      exitCode: 0,
      out: [
        'hello from the app layer',
        'hello from node layer',
        '0:0 755 /layers',
        '1000:1000 755 /layers/example_node',
        '1000:1000 755 /layers/example_node/node/bin/hello',
        '/layers/example_node/node/bin',
      ],
    });
  });

  it('loads the same archive again to the same image id', async () => {
    const { imageId, stream } = await imageArchiveStream(first);
    expect(imageId).toBe(firstId);
    await engine.loadImage(stream);
    expect((await engine.inspectImage(first.tags[0] ?? ''))?.id).toBe(firstId);
  });

  it('reuses a layer the daemon has on the same chain (previous image), shipping only the changed one', async () => {
    const node = first.layers[0];
    if (node === undefined) throw new Error('fixture');
    const appPath = join(dir, 'app2.tar');
    const app2 = await writeLayerTar(layerFromFiles([{ path: '/workspace', type: 'directory', uid: 1000, gid: 1000 }, { path: '/workspace/hello.txt', content: 'second\n' }]), appPath);
    const second: ImageArchiveOptions = {
      ...first,
      layers: [
        { diffId: node.diffId, reuse: true, history: node.history },
        { diffId: app2.diffId, tarPath: appPath, history: { created_by: 'Application Layer' } },
      ],
      tags: [newTag('archive-second')],
    };
    expect(planImageArchive(second).files).toHaveLength(1);
    const { imageId, stream } = await imageArchiveStream(second);
    await engine.loadImage(stream);
    expect((await engine.inspectImage(second.tags[0] ?? ''))?.id).toBe(imageId);
    const r = await run(second.tags[0] ?? '', 'cat /workspace/hello.txt; /layers/example_node/node/bin/hello');
    expect(r.out).toEqual(['second', 'hello from node layer']);
  });

  it('is refused when a left-out layer sits on a chain the daemon does not have', async () => {
    // the app layer exists in the daemon, but only on top of the node layer, not directly on the base
    const bad: ImageArchiveOptions = { ...first, layers: [{ diffId: appLayer.diffId, reuse: true, history: {} }], tags: [newTag('archive-bad')] };
    const { stream } = await imageArchiveStream(bad);
    await expect(engine.loadImage(stream)).rejects.toThrow(/layer\.tar: no such file or directory/);
  });
});
