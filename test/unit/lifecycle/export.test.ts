/**
 * exportImage against a recording fake engine (no Docker): what goes into the loaded archive, which
 * layers are left out, where a previous-image layer comes from, and that failures happen before any
 * work and leave no helper container behind.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../../src/errors.js';
import { decodeLifecycleMetadata, type LifecycleMetadata } from '../../../src/image/lifecycle-labels.js';
import { makeTar, readTar, type TarFileEntry } from '../../../src/image/tar-files.js';
import { exportImage, type ExportInput } from '../../../src/lifecycle/export/export.js';
import type { PhaseContext } from '../../../src/lifecycle/phase-context.js';
import type { ContainerEngine, ContainerSpec, ImageInfo, KilnEvent } from '../../../src/ports.js';

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Loaded {
  manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[];
  config: { config: { Entrypoint: string[]; User: string; Labels: Record<string, string> }; rootfs: { diff_ids: string[] }; history: { created_by?: string }[] };
  files: Map<string, Buffer>;
}

const RUN: ImageInfo = {
  id: sha('run'),
  repoTags: ['run:1'],
  repoDigests: [],
  os: 'linux',
  architecture: 'amd64',
  layers: [sha('base-layer')],
  size: 1,
  created: '',
  config: { env: ['PATH=/bin'], user: '1000:1000', workingDir: '/', entrypoint: null, cmd: null, labels: {} },
};

/** Volumes are maps of relative path -> entry; getArchive serves them like the daemon (root element first). */
class FakeEngine {
  volumes = new Map<string, TarFileEntry[]>();
  containers = new Map<string, ContainerSpec>();
  created = 0;
  loaded: Loaded[] = [];
  images = new Map<string, ImageInfo>([[RUN.id, RUN]]);
  tags = new Map<string, string>();
  saved: Buffer | undefined;

  engine(): ContainerEngine {
    const notUsed = (): never => {
      throw new Error('not used by export');
    };
    return {
      ping: notUsed,
      runContainer: notUsed,
      putArchive: notUsed,
      buildImage: notUsed,
      importImage: notUsed,
      createVolume: notUsed,
      removeVolume: notUsed,
      volumeExists: notUsed,
      listContainers: notUsed,
      listVolumes: notUsed,
      listImages: notUsed,
      removeImage: notUsed,
      createContainer: (spec) => {
        const id = `c${++this.created}`;
        this.containers.set(id, spec);
        return Promise.resolve(id);
      },
      removeContainer: (id) => {
        this.containers.delete(id);
        return Promise.resolve();
      },
      getArchive: async (id, path) => {
        const mount = this.containers.get(id)?.mounts?.[0];
        const entries = this.volumes.get(mount?.source ?? '') ?? [];
        const rel = path.slice((mount?.target ?? '').length).replace(/^\//, '');
        const rootName = rel === '' ? 'kiln-volume' : (rel.split('/').pop() as string);
        const under = entries.filter((e) => rel === '' || e.path === rel || e.path.startsWith(`${rel}/`));
        if (rel !== '' && under.length === 0) throw new KilnError({ action: 'get archive', cause: `no such file or directory: ${path}`, kind: 'missing-path' });
        const renamed = under.map((e) => ({ ...e, path: rel === '' ? `${rootName}/${e.path}` : `${rootName}${e.path.slice(rel.length)}` }));
        const root = rel === '' ? [{ path: rootName, type: 'directory' as const }] : [];
        return Readable.from([await makeTar([...root, ...renamed])]);
      },
      loadImage: async (archive) => {
        const chunks: Buffer[] = [];
        for await (const c of archive as Readable) chunks.push(c as Buffer);
        const entries = await readTar(Buffer.concat(chunks));
        const files = new Map(entries.filter((e) => e.type === 'file').map((e) => [e.path, e.content ?? Buffer.alloc(0)]));
        const manifest = JSON.parse(String(files.get('manifest.json'))) as Loaded['manifest'];
        const configBytes = files.get(manifest[0]?.Config ?? '') ?? Buffer.alloc(0);
        const config = JSON.parse(String(configBytes)) as Loaded['config'];
        this.loaded.push({ manifest, config, files });
        const id = sha(configBytes);
        this.images.set(id, { ...RUN, id, layers: config.rootfs.diff_ids, config: { ...RUN.config, labels: config.config.Labels } });
        for (const t of manifest[0]?.RepoTags ?? []) this.tags.set(t, id);
        return [id];
      },
      inspectImage: (ref) => Promise.resolve(this.images.get(this.tags.get(ref) ?? ref)),
      tagImage: (ref, target) => {
        this.tags.set(target, ref);
        return Promise.resolve();
      },
      saveImage: () => Promise.resolve(Readable.from([this.saved ?? Buffer.alloc(0)])),
    };
  }
}

const u = { uid: 1000, gid: 1000 };
const launch = { types: { launch: true, build: false, cache: false }, metadata: {} };

function setup(): { fake: FakeEngine; ctx: PhaseContext; events: KilnEvent[]; input: (over?: Partial<ExportInput>) => ExportInput } {
  const fake = new FakeEngine();
  fake.volumes.set('layers', [
    { path: 'test_a', type: 'directory', ...u },
    { path: 'test_a/a-changed', type: 'directory', ...u },
    { path: 'test_a/a-changed/f', content: 'new', ...u },
  ]);
  fake.volumes.set('app', [{ path: 'index.txt', content: 'app', ...u }]);
  const events: KilnEvent[] = [];
  const ctx: PhaseContext = { engine: fake.engine(), reporter: { emit: (e) => events.push(e) }, labels: { 'io.kiln.session': 's' }, ids: { newId: () => 'x' } };
  const input = (over: Partial<ExportInput> = {}): ExportInput => ({
    tags: ['app:1', 'app:latest'],
    runImage: { info: RUN, reference: RUN.id, image: 'run:1', mirrors: [] },
    user: u,
    volumes: { layers: 'layers', app: 'app' },
    helperImage: 'builder',
    group: [{ id: 'test/a', version: '1', api: '0.10' }],
    groupExtensions: [],
    layerMetadata: { 'test/a': { 'a-changed': launch } },
    storeMetadata: {},
    processes: [{ type: 'web', command: ['x'], args: [], direct: true, default: true, buildpackId: 'test/a' }],
    defaultProcessType: 'web',
    labels: [],
    slices: [],
    projectMetadata: {},
    ...over,
  });
  return { fake, ctx, events, input };
}

describe('exportImage (fake engine)', () => {
  it('loads one archive with a path per layer but files only for new layers, tags every tag, removes its helpers', async () => {
    const { fake, ctx, input, events } = setup();
    const result = await exportImage(ctx, input());
    expect(fake.loaded.length).toBe(1);
    const { manifest, config, files } = fake.loaded[0] as Loaded;
    expect(manifest[0]?.RepoTags).toEqual(['app:1', 'app:latest']);
    expect(manifest[0]?.Layers.length).toBe(6); // base + bp layer + app + launcher + config + process-types
    expect(config.rootfs.diff_ids).toEqual(result.layers);
    const layerFiles = [...files.keys()].filter((k) => k.endsWith('/layer.tar'));
    expect(layerFiles.length).toBe(5);
    expect(layerFiles).not.toContain(manifest[0]?.Layers[0]);
    expect(config.history.map((h) => h.created_by ?? '')).toEqual(['', "Layer: 'a-changed', Created by buildpack: test/a@1", 'Application Layer', 'Buildpacks Application Launcher', 'Buildpacks Launcher Config', 'Buildpacks Process Types']);
    expect(fake.tags.get('app:latest')).toBe(result.imageId);
    expect(fake.containers.size).toBe(0);
    expect(fake.created).toBeGreaterThan(0);
    expect(events).toContainEqual({ type: 'layer', decision: 'added', layer: 'test/a:a-changed' });
    // The layer tar of the buildpack layer carries absolute-in-image names and the CNB owner.
    const bpTar = await readTar(files.get(manifest[0]?.Layers[1] ?? '') ?? Buffer.alloc(0));
    expect(bpTar.map((e) => `${e.path}:${e.uid}`)).toEqual(['layers:1000', 'layers/test_a:1000', 'layers/test_a/a-changed:1000', 'layers/test_a/a-changed/f:1000']);
  });

  it('gives the same image id for the same inputs (edge 53)', async () => {
    const a = setup();
    const b = setup();
    expect((await exportImage(a.ctx, a.input())).imageId).toBe((await exportImage(b.ctx, b.input())).imageId);
  });

  it('fails with 62 before touching any volume for an unknown process type or a bad type name (edges 52, 54)', async () => {
    const { fake, ctx, input } = setup();
    for (const over of [{ processTypeOverride: 'nope' }, { processes: [{ type: 'a/b', command: ['x'], args: [], direct: true, default: false, buildpackId: 'test/a' }] }]) {
      const err = await exportImage(ctx, input(over)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KilnError);
      expect((err as KilnError).exitCode).toBe(62);
    }
    expect(fake.created).toBe(0);
  });

  it('fails with 62 for a launch=true cache=true layer without contents (edge 49), removing its helpers', async () => {
    const { fake, ctx, input } = setup();
    const err = await exportImage(ctx, input({ layerMetadata: { 'test/a': { 'a-changed': launch, gone: { types: { launch: true, build: false, cache: true }, metadata: {} } } } })).catch((e: unknown) => e);
    expect((err as KilnError).exitCode).toBe(62);
    expect((err as KilnError).message).toMatch(/'test\/a:gone' is launch=true and cache=true/);
    expect(fake.containers.size).toBe(0);
    expect(fake.loaded.length).toBe(0);
  });

  it('leaves out unchanged layers on the previous image chain, and ships an off-chain reused layer from docker save', async () => {
    const { fake, ctx, input } = setup();
    // First export: a-changed (old content) + z-gone (present); that image is the previous one.
    fake.volumes.set('layers', [
      { path: 'test_a', type: 'directory', ...u },
      { path: 'test_a/a-changed', type: 'directory', ...u },
      { path: 'test_a/a-changed/f', content: 'old', ...u },
      { path: 'test_a/z-gone', type: 'directory', ...u },
      { path: 'test_a/z-gone/g', content: 'kept', ...u },
    ]);
    const meta = { 'a-changed': launch, 'z-gone': launch };
    const first = await exportImage(ctx, input({ layerMetadata: { 'test/a': meta } }));
    const firstLoad = fake.loaded[0] as Loaded;
    const goneDiff = first.layers[2] as string;
    const goneTar = firstLoad.files.get(firstLoad.manifest[0]?.Layers[2] ?? '') as Buffer;
    expect(sha(goneTar)).toBe(goneDiff);
    const previous: LifecycleMetadata = decodeLifecycleMetadata(fake.images.get(first.imageId)?.config.labels['io.buildpacks.lifecycle.metadata'] ?? '');

    // Same contents again: everything but nothing new on the chain is left out.
    await exportImage(ctx, input({ layerMetadata: { 'test/a': meta }, previous, previousImageId: first.imageId }));
    const same = fake.loaded[1] as Loaded;
    expect([...same.files.keys()].filter((k) => k.endsWith('/layer.tar'))).toEqual([]);

    // a-changed changes, z-gone's dir is gone: z-gone (above a changed layer) must come from docker save.
    fake.volumes.set('layers', [
      { path: 'test_a', type: 'directory', ...u },
      { path: 'test_a/a-changed', type: 'directory', ...u },
      { path: 'test_a/a-changed/f', content: 'new', ...u },
    ]);
    fake.saved = await makeTar([
      { path: 'aaa', type: 'directory' },
      { path: 'aaa/layer.tar', content: Buffer.from('not this one') },
      { path: 'bbb/layer.tar', content: goneTar },
      { path: 'manifest.json', content: '[]' },
    ]);
    const third = await exportImage(ctx, input({ layerMetadata: { 'test/a': meta }, previous, previousImageId: first.imageId }));
    expect(third.layers[2]).toBe(goneDiff);
    const load = fake.loaded[2] as Loaded;
    expect(load.files.get(load.manifest[0]?.Layers[2] ?? '')?.equals(goneTar)).toBe(true);
    expect(load.files.has(load.manifest[0]?.Layers[1] ?? '')).toBe(true);
  });
});

describe('exportImage with listings (streamed launch layers)', () => {
  const listing = (size: number): ExportInput['listings'] => ({
    'test_a/a-changed': [
      { path: '.', kind: 'directory', size: 4096, nlink: 2, ino: '1' },
      { path: 'f', kind: 'file', size, nlink: 1, ino: '2' },
    ],
  });

  it('streams a listed layer into the load under its own member name: same layers and image id as through temp files', async () => {
    const plain = setup();
    const want = await exportImage(plain.ctx, plain.input());
    const { fake, ctx, input, events } = setup();
    const got = await exportImage(ctx, input({ listings: listing(3), streamThreshold: 0 }));
    expect(got.imageId).toBe(want.imageId);
    expect(got.layers).toEqual(want.layers);
    const { manifest, files } = fake.loaded[0] as Loaded;
    expect(manifest[0]?.Layers[1]).toBe('kiln-stream-0/layer.tar');
    expect(sha(files.get('kiln-stream-0/layer.tar') ?? Buffer.alloc(0))).toBe(got.layers[1]);
    expect(events).toContainEqual({ type: 'layer', decision: 'added', layer: 'test/a:a-changed' });
    expect(fake.containers.size).toBe(0);
  });

  it('keeps small layers on the temp-file path (threshold)', async () => {
    const { fake, ctx, input } = setup();
    await exportImage(ctx, input({ listings: listing(3) }));
    expect((fake.loaded[0] as Loaded).manifest[0]?.Layers[1]).not.toMatch(/^kiln-stream/);
  });

  it('falls back to temp files when the listing predicted the wrong size: the streamed load fails, the second one succeeds', async () => {
    const plain = setup();
    const want = await exportImage(plain.ctx, plain.input());
    const { fake, ctx, input, events } = setup();
    let loads = 0;
    const engine = ctx.engine;
    const counting = { ...ctx, engine: { ...engine, loadImage: (a: Readable | Buffer) => (loads++, engine.loadImage(a)) } };
    // Only the tar size counts (3 bytes and 2 bytes both pad to one block): these two miss it.
    for (const size of [0, 600]) {
      const got = await exportImage(counting, input({ listings: listing(size), streamThreshold: 0 }));
      expect(got.imageId).toBe(want.imageId);
    }
    expect(loads).toBe(4); // two attempts per export
    expect(fake.loaded.length).toBe(2); // only the temp-file loads got through
    expect(events.filter((e) => e.type === 'debug' && /instead of the \d+ declared/.test(e.message)).length).toBe(2);
    expect(events.filter((e) => e.type === 'layer').length).toBe(2); // one event per export, not per attempt
    expect(fake.containers.size).toBe(0);
  });

  it('an interrupt while the layer is streamed fails the load (exit 130) and loads nothing', async () => {
    const { fake, ctx, input } = setup();
    const ac = new AbortController();
    const engine = ctx.engine;
    const aborting = {
      ...ctx,
      signal: ac.signal,
      engine: {
        ...engine,
        getArchive: async (id: string, path: string) => {
          const s = await engine.getArchive(id, path);
          if (path.endsWith('a-changed')) setTimeout(() => ac.abort(), 0);
          return s;
        },
      },
    };
    const err = await exportImage(aborting, input({ listings: listing(3), streamThreshold: 0 })).catch((e: unknown) => e);
    expect((err as KilnError).exitCode).toBe(130);
    expect(fake.loaded.length).toBe(0);
    await new Promise((r) => setTimeout(r, 10));
    expect(fake.containers.size).toBe(0);
  });
});
