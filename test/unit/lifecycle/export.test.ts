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
import { COMMIT_THRESHOLD, transportOf } from '../../../src/lifecycle/export/transport.js';
import type { ContainerEngine, ContainerSpec, ImageInfo, KilnEvent } from '../../../src/ports.js';
import { FakeEngine as SharedFakeEngine, notUsed } from '../../helpers/fake-engine.js';

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

/**
 * The shared fake engine (test/helpers/fake-engine.ts) keeps the helper containers, images and tags;
 * volumes are maps of relative path -> entry here, and getArchive serves them like the daemon (root
 * element first). Calls export must not make fail the test.
 */
class FakeEngine {
  volumes = new Map<string, TarFileEntry[]>();
  loaded: Loaded[] = [];
  saved: Buffer | undefined;
  readonly daemon: SharedFakeEngine;

  constructor() {
    const notUsedByExport = Object.fromEntries(
      (['ping', 'runContainer', 'putArchive', 'buildImage', 'importImage', 'createVolume', 'removeVolume', 'volumeExists', 'listContainers', 'listVolumes', 'listImages', 'removeImage'] as const).map((m) => [m, notUsed(m)]),
    );
    this.daemon = new SharedFakeEngine({
      ...notUsedByExport,
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
      saveImage: () => Promise.resolve(Readable.from([this.saved ?? Buffer.alloc(0)])),
    });
    this.images.set(RUN.id, RUN);
  }

  get containers(): Map<string, ContainerSpec> {
    return this.daemon.containers;
  }

  get images(): Map<string, ImageInfo> {
    return this.daemon.images;
  }

  get tags(): Map<string, string> {
    return this.daemon.tags;
  }

  /** Helper containers created so far. */
  get created(): number {
    return this.daemon.whats('createContainer').length;
  }

  engine(): ContainerEngine {
    return this.daemon;
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

  it('gives the same image id for the same inputs', async () => {
    const a = setup();
    const b = setup();
    expect((await exportImage(a.ctx, a.input())).imageId).toBe((await exportImage(b.ctx, b.input())).imageId);
  });

  it('fails with 62 before touching any volume for an unknown process type or a bad type name', async () => {
    const { fake, ctx, input } = setup();
    for (const over of [{ processTypeOverride: 'nope' }, { processes: [{ type: 'a/b', command: ['x'], args: [], direct: true, default: false, buildpackId: 'test/a' }] }]) {
      const err = await exportImage(ctx, input(over)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KilnError);
      expect((err as KilnError).exitCode).toBe(62);
    }
    expect(fake.created).toBe(0);
  });

  it('fails with 62 for a launch=true cache=true layer without contents, removing its helpers', async () => {
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

describe('exportImage: which transport a changed launch layer takes (export/transport.ts)', () => {
  const big = { layerBytes: { 'test_a/a-changed': COMMIT_THRESHOLD } };

  it('takes a temp file below COMMIT_THRESHOLD bytes and without a byte count, commits from it on', () => {
    expect(transportOf(undefined)).toBe('file');
    expect(transportOf(COMMIT_THRESHOLD - 1)).toBe('file');
    expect(transportOf(COMMIT_THRESHOLD)).toBe('commit');
  });

  it('falls back to the temp file, with its image id, when the run image cannot host the copy (no sh; the copy script says so: exit 3, 4 or 5)', async () => {
    const plain = setup();
    const want = await exportImage(plain.ctx, plain.input());
    const failures: Array<() => Promise<never> | Promise<{ exitCode: number }>> = [
      () => Promise.reject(new KilnError({ action: 'run the container', cause: 'exec: "sh": executable file not found in $PATH' })),
      () => Promise.resolve({ exitCode: 3 }),
    ];
    for (const fail of failures) {
      const { fake, ctx, input, events } = setup();
      const tried: string[] = [];
      const withCopy = { ...ctx, engine: { ...ctx.engine, runContainer: (spec: ContainerSpec) => (tried.push(spec.cmd[3] ?? ''), fail()) } } as PhaseContext;
      const got = await exportImage(withCopy, input(big));
      expect(tried).toEqual(['kiln-commit']);
      expect(got.imageId).toBe(want.imageId);
      expect(events.some((e) => e.type === 'debug' && /committing a layer failed: .*; writing the layers to temp files instead/.test(e.message))).toBe(true);
      expect(fake.loaded.length).toBe(1);
    }
  });

  it('fails the export (62) instead of falling back when the daemon fails for another reason, so a run never gets another image id', async () => {
    const failures: Array<[() => Promise<{ exitCode: number }>, RegExp]> = [
      [() => Promise.reject(new Error('commit: write /var/lib/docker/tmp: no space left on device')), /no space left on device/],
      [() => Promise.resolve({ exitCode: 1 }), /the copy of test_a\/a-changed into the run image exited 1/],
    ];
    for (const [fail, says] of failures) {
      const { fake, ctx, input } = setup();
      const failing = { ...ctx, engine: { ...ctx.engine, runContainer: fail } } as PhaseContext;
      const err = await exportImage(failing, input(big)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KilnError);
      expect((err as KilnError).exitCode).toBe(62);
      expect((err as KilnError).message).toMatch(says);
      expect(fake.loaded.length).toBe(0);
    }
  });
});
