import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chainId, digestHex, sha256Hex, toDigest } from '../../../src/image/digest.js';
import { imageArchiveStream, planImageArchive, reusablePrefixLength, writeImageArchive, type ImageArchiveOptions } from '../../../src/image/image-archive.js';
import { canonicalJson, imageConfigJson } from '../../../src/image/image-config.js';
import { layerFromFiles, writeLayerTar } from '../../../src/image/layer-tar.js';
import { readTar } from '../../../src/image/tar-files.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kiln-archive-'));
  dirs.push(d);
  return d;
}

const BASE_LAYER = toDigest(sha256Hex('base layer'));
const CREATED = '1980-01-01T00:00:01Z';

async function options(dir: string, extra: Partial<ImageArchiveOptions> = {}): Promise<ImageArchiveOptions> {
  const layer = await writeLayerTar(layerFromFiles([{ path: '/workspace', type: 'directory', uid: 1000, gid: 1000 }, { path: '/workspace/hello.txt', content: 'hello\n', uid: 1000, gid: 1000 }]), join(dir, 'app.tar'));
  return {
    base: { layers: [BASE_LAYER], os: 'linux', architecture: 'amd64', history: [{ created_by: 'base' }] },
    layers: [{ diffId: layer.diffId, tarPath: join(dir, 'app.tar'), history: { created_by: 'Application Layer' } }],
    config: { env: ['PATH=/bin'], user: '1000:1000', workingDir: '/workspace', entrypoint: ['/cnb/lifecycle/launcher'], cmd: null, labels: { b: '2', a: '1' }, exposedPorts: ['8080/tcp'] },
    created: CREATED,
    tags: ['example/app:latest'],
    ...extra,
  };
}

describe('writeImageArchive', () => {
  it('carries only the new layers, the config and a manifest listing every layer', async () => {
    const dir = await tempDir();
    const opts = await options(dir);
    const { imageId, archivePath } = await writeImageArchive({ ...opts, dest: join(dir, 'image.tar') });
    const entries = await readTar(await readFile(archivePath));
    const newHex = digestHex(opts.layers[0]?.diffId ?? '');
    const cfgName = `${digestHex(imageId)}.json`;
    expect(entries.map((e) => e.path)).toEqual([newHex, `${newHex}/layer.tar`, cfgName, 'manifest.json']);
    const files = new Map(entries.map((e) => [e.path, e.content]));
    expect(files.get(`${newHex}/layer.tar`)).toEqual(await readFile(join(dir, 'app.tar')));
    expect(JSON.parse(files.get('manifest.json')?.toString() ?? '')).toEqual([
      { Config: cfgName, RepoTags: ['example/app:latest'], Layers: [`${digestHex(BASE_LAYER)}/layer.tar`, `${newHex}/layer.tar`] },
    ]);
    const cfgBytes = files.get(cfgName) ?? Buffer.alloc(0);
    expect(`sha256:${sha256Hex(cfgBytes)}`).toBe(imageId);
    const cfg = JSON.parse(cfgBytes.toString()) as Record<string, unknown>;
    expect(cfg).toMatchObject({
      architecture: 'amd64',
      os: 'linux',
      created: CREATED,
      rootfs: { type: 'layers', diff_ids: [BASE_LAYER, opts.layers[0]?.diffId] },
      history: [
        { created: CREATED, created_by: 'base' },
        { created: CREATED, created_by: 'Application Layer' },
      ],
      config: { Env: ['PATH=/bin'], User: '1000:1000', WorkingDir: '/workspace', Entrypoint: ['/cnb/lifecycle/launcher'], Cmd: null, Labels: { a: '1', b: '2' }, ExposedPorts: { '8080/tcp': {} } },
    });
    // canonical: keys sorted at every level
    expect(cfgBytes.toString()).toBe(canonicalJson(cfg));
    expect(Object.keys(cfg)).toEqual([...Object.keys(cfg)].sort());
  });

  it('is reproducible: same inputs give the same bytes and id; a changed label changes the id', async () => {
    const dir = await tempDir();
    const opts = await options(dir);
    const a = await writeImageArchive({ ...opts, dest: join(dir, 'a.tar') });
    const b = await writeImageArchive({ ...opts, dest: join(dir, 'b.tar') });
    expect(b.imageId).toBe(a.imageId);
    expect(await readFile(b.archivePath)).toEqual(await readFile(a.archivePath));
    const c = planImageArchive({ ...opts, config: { ...opts.config, labels: { a: '1', b: '3' } } });
    expect(c.imageId).not.toBe(a.imageId);
  });

  it('leaves reused layers out, writes a repeated diffID once and loads by id without tags', async () => {
    const dir = await tempDir();
    const opts = await options(dir);
    const app = opts.layers[0];
    if (app === undefined || !('tarPath' in app)) throw new Error('fixture');
    const reused = toDigest(sha256Hex('previous launcher layer'));
    const plan = planImageArchive({
      ...opts,
      tags: [],
      layers: [{ diffId: reused, reuse: true, history: { created_by: 'Buildpacks Application Launcher' } }, app, { ...app, history: { created_by: 'again' } }],
    });
    expect(plan.files).toEqual([{ name: `${digestHex(app.diffId)}/layer.tar`, tarPath: app.tarPath }]);
    const manifest = JSON.parse(plan.manifest.toString()) as Array<{ RepoTags: unknown; Layers: string[] }>;
    expect(manifest[0]?.RepoTags).toBeNull();
    expect(manifest[0]?.Layers).toHaveLength(4);
    expect(plan.diffIds).toEqual([BASE_LAYER, reused, app.diffId, app.diffId]);
  });

  it('fails before streaming when a layer tar is missing', async () => {
    const dir = await tempDir();
    const opts = await options(dir);
    await expect(imageArchiveStream({ ...opts, layers: [{ diffId: BASE_LAYER, tarPath: join(dir, 'nope.tar'), history: {} }] })).rejects.toThrow(/ENOENT/);
  });

  it('stops cleanly when the consumer goes away mid-stream', async () => {
    const dir = await tempDir();
    const opts = await options(dir);
    const { stream } = await imageArchiveStream(opts);
    await new Promise<void>((resolve) => {
      stream.once('data', () => {
        stream.destroy();
        resolve();
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stream.destroyed).toBe(true);
  });

  it('insists on one non-empty history entry per layer', async () => {
    const dir = await tempDir();
    const opts = await options(dir);
    expect(() => planImageArchive({ ...opts, base: { ...opts.base, history: [] } })).toThrow(/history/);
    // empty_layer entries do not count
    expect(() => planImageArchive({ ...opts, base: { ...opts.base, history: [{ created_by: 'ENV x', empty_layer: true }, { created_by: 'base' }] } })).not.toThrow();
  });
});

describe('imageConfigJson', () => {
  it('leaves out empty optional fields and sorts keys', () => {
    const { json, imageId } = imageConfigJson({
      os: 'linux',
      architecture: 'arm64',
      variant: 'v8',
      created: CREATED,
      config: { env: [], user: '', workingDir: '/', entrypoint: null, cmd: ['sh'], labels: {} },
      diffIds: [BASE_LAYER],
      history: [{}],
    });
    const text = json.toString();
    expect(text).not.toContain('ExposedPorts');
    expect(text.startsWith('{"architecture":"arm64","config":{"Cmd":["sh"],"Entrypoint":null,"Env":[],"Labels":{},"User":"","WorkingDir":"/"},"created"')).toBe(true);
    expect(text).toContain('"variant":"v8"');
    expect(imageId).toBe(`sha256:${sha256Hex(json)}`);
  });
});

describe('reusablePrefixLength and chainId', () => {
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => toDigest(sha256Hex(x))) as [string, string, string, string];
  it('is the longest common bottom prefix with any known image', () => {
    expect(reusablePrefixLength([a, b, c], [[a]])).toBe(1);
    expect(reusablePrefixLength([a, b, c], [[a], [a, b, d]])).toBe(2);
    expect(reusablePrefixLength([a, d, c], [[a, b, c]])).toBe(1); // c sits on another chain: must be shipped
    expect(reusablePrefixLength([a, b], [[a, b, c]])).toBe(2);
    expect(reusablePrefixLength([b], [])).toBe(0);
  });
  it('follows the daemon chain-id rule', () => {
    expect(chainId([a])).toBe(a);
    expect(chainId([a, b])).toBe(`sha256:${sha256Hex(`${a} ${b}`)}`);
    expect(chainId([a, b, c])).toBe(`sha256:${sha256Hex(`${chainId([a, b])} ${c}`)}`);
  });
});
