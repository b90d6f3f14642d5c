/**
 * Fast rebuilds on the real daemon (issue 5 "Done when"): a cached layer is restored, a launch layer is
 * reused without being re-sent, a changed layer is replaced, --clear-cache starts fresh, a no-change
 * rebuild gives the identical image id (with a build and a run extension whose RUN steps write the
 * time) and runs no Dockerfile build, and a cached layer whose digest disagrees is dropped (platform.md, "Layer Restoration").
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type BuildRequest } from '../../src/app/build-app.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { readTar } from '../../src/image/tar-files.js';
import { readCacheMetadata, writeCacheMetadata } from '../../src/lifecycle/cache/cache-volume.js';
import type { ContainerEngine, KilnEvent } from '../../src/ports.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, testLabels, testName } from '../helpers/test-labels.js';

const run = promisify(execFile);
const real = createDockerEngine();
/** The layer tars each loadImage archive carried (the engine port, recorded). */
const shipped: string[][] = [];
const engine: ContainerEngine = Object.assign(Object.create(real) as ContainerEngine, {
  loadImage: async (archive: Parameters<ContainerEngine['loadImage']>[0]) => {
    const chunks: Buffer[] = [];
    if (Buffer.isBuffer(archive)) chunks.push(archive);
    else for await (const c of archive) chunks.push(c as Buffer);
    const buf = Buffer.concat(chunks);
    shipped.push((await readTar(buf, { maxBytes: 1024 * 1024 * 1024 })).filter((e) => e.path.endsWith('/layer.tar')).map((e) => e.path.split('/')[0] ?? ''));
    return real.loadImage(buf);
  },
});
const bases = useBusyboxImages(engine);
const builderTag = `kiln-test/rebuild-builder:${testName('b')}`;
const appTag = `kiln-test/rebuild-app:${testName('a')}`;
const cacheVolume = testName('cache');
let tmp = '';
let appDir = '';
let n = 0;

const ORDER = `[[order]]\n[[order.group]]\nid = "kiln-test/cacher"\nversion = "1.0.0"\n\n[[order-extensions]]\n[[order-extensions.group]]\nid = "kiln-test/stamps"\nversion = "1.0.0"\n`;
const BUILD_DF = 'ARG base_image\nFROM ${base_image}\nUSER root\nRUN date +%s%N > /etc/build-ext-at\nARG user_id\nARG group_id\nUSER ${user_id}:${group_id}\n';
const RUN_DF = 'ARG base_image\nFROM ${base_image}\nUSER root\nRUN date +%s%N > /etc/run-ext-at\nLABEL io.buildpacks.rebasable=true\nARG user_id\nARG group_id\nUSER ${user_id}:${group_id}\n';

async function build(over: Partial<BuildRequest> = {}) {
  const events: KilnEvent[] = [];
  const before = shipped.length;
  const req: BuildRequest = { image: appTag, builder: builderTag, path: appDir, env: {}, volumes: [], labels: testLabels(), cacheVolume, ...over };
  const out = await buildApp({ engine, reporter: { emit: (e) => events.push(e) }, ids: { newId: () => `rb${Date.now().toString(36)}${n++}` } }, req);
  const lines = events.flatMap((e) => (e.type === 'module-line' ? [`[${e.module}] ${e.line}`] : e.type === 'info' || e.type === 'warning' ? [e.message] : []));
  // The export decision per layer (the cache save reports 'cached' after it).
  const layers: Record<string, string> = {};
  for (const e of events) if (e.type === 'layer' && e.decision !== 'cached' && e.decision !== 'restored') layers[e.layer] = e.decision;
  return { out, lines, layers, phases: events.flatMap((e) => (e.type === 'phase-start' ? [e.phase] : [])), shipped: shipped.slice(before).flat() };
}

const hex = (d: string): string => d.replace('sha256:', '');

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-rebuild-'));
  appDir = join(tmp, 'app');
  await cp(join(import.meta.dirname, '../fixtures/rebuild/apps/app'), appDir, { recursive: true });
  const ext = join(tmp, 'stamps');
  await mkdir(join(ext, 'generate'), { recursive: true });
  await writeFile(join(ext, 'extension.toml'), 'api = "0.10"\n\n[extension]\nid = "kiln-test/stamps"\nversion = "1.0.0"\n');
  await writeFile(join(ext, 'generate', 'build.Dockerfile'), BUILD_DF);
  await writeFile(join(ext, 'generate', 'run.Dockerfile'), RUN_DF);
  await chmod(ext, 0o755);
  await makeTestBuilder(engine, { buildpacks: [join(import.meta.dirname, '../fixtures/rebuild/buildpacks/cacher')], extensions: [ext], orderToml: ORDER, runImage: bases().run, tag: builderTag, labels: {} });
});

afterAll(async () => {
  await real.removeImage(appTag, { force: true }).catch(() => undefined);
  await real.removeImage(builderTag, { force: true }).catch(() => undefined);
  await real.removeVolume(cacheVolume).catch(() => undefined);
  await cleanupByLabel(real);
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
});

describe('rebuilds with the cache volume', () => {
  let first = { imageId: '', layers: [] as string[] };

  it('cold build: everything built, both Dockerfiles applied, cache volume labelled', async () => {
    const r = await build({ clearCache: true });
    expect(r.phases.slice(0, 2)).toEqual(['analyzing', 'detecting']);
    expect(r.phases).toContain('restoring');
    expect(r.lines).toContain('[kiln-test/cacher] deps fresh');
    expect(r.lines).toContain('[kiln-test/cacher] runtime built');
    expect(r.lines).toContain('[kiln-test/cacher] both fresh');
    expect(r.out.dockerBuilds).toBe(2);
    expect(r.out.cacheVolume).toBe(cacheVolume);
    expect(await real.listVolumes({ labels: [`io.kiln.cache=${appTag}`] })).toContain(cacheVolume);
    first = { imageId: r.out.imageId, layers: r.out.export.layers };
    const shown = await run('docker', ['run', '--rm', '--network', 'none', appTag]);
    expect(shown.stdout.trim().split('\n')).toEqual(['a', 'runtime v1', 'both', 'hello v1']);
  });

  it('no-change rebuild: cached layers restored, launch layer kept from the previous image, nothing re-sent, no Dockerfile build, same image id', async () => {
    // --no-reuse: the lifecycle's own rebuild path (without it the unchanged inputs reuse the image, build-reuse.test.ts).
    const r = await build({ noReuse: true });
    expect(r.lines.some((l) => l.startsWith('[kiln-test/cacher] deps restored: made-'))).toBe(true);
    expect(r.lines).toContain('[kiln-test/cacher] runtime kept');
    expect(r.lines).toContain('[kiln-test/cacher] both restored');
    expect(r.layers['kiln-test/cacher:runtime']).toBe('reused');
    expect(r.layers['kiln-test/cacher:both']).toBe('reused');
    expect(r.layers['kiln-test/cacher:conf']).toBe('reused');
    expect(r.out.dockerBuilds).toBe(0);
    expect(r.lines.some((l) => l.startsWith('Applying '))).toBe(false);
    expect(r.shipped).toEqual([]);
    expect(r.out.imageId).toBe(first.imageId);
  });

  it('a changed layer is replaced; layers below it are not sent, unchanged ones above are not re-tarred', async () => {
    const r = await build({ env: { CONF: 'b' } });
    expect(r.layers['kiln-test/cacher:conf']).toBe('added');
    expect(r.layers['kiln-test/cacher:runtime']).toBe('reused');
    expect(r.out.imageId).not.toBe(first.imageId);
    const changed = r.out.export.layers.filter((d) => !first.layers.includes(d));
    // Only conf's layer is new (the config layer holds no diffIDs).
    expect(changed.length).toBe(1);
    const bothIdx = first.layers.findIndex((_, i) => r.out.export.layers[i] !== first.layers[i]);
    for (const d of first.layers.slice(0, bothIdx)) expect(r.shipped).not.toContain(hex(d));
    const shown = await run('docker', ['run', '--rm', '--network', 'none', appTag]);
    expect(shown.stdout.trim().split('\n')).toEqual(['b', 'runtime v1', 'both', 'hello v1']);
    // Above conf, the unchanged runtime and app layers come from the previous image, not from a new tar.
    expect(r.out.dockerBuilds).toBe(0);
  });

  it('a one-file app change replaces only the app layer (and what is above it)', async () => {
    await writeFile(join(appDir, 'hello.txt'), 'hello v2\n');
    const r = await build({ env: { CONF: 'b' } });
    const shown = await run('docker', ['run', '--rm', '--network', 'none', appTag]);
    expect(shown.stdout.trim().split('\n')).toEqual(['b', 'runtime v1', 'both', 'hello v2']);
    expect(r.lines).toContain('[kiln-test/cacher] both restored');
    // Neither Dockerfile has COPY or ADD: they get an empty context, so the app change rebuilds neither.
    expect(r.out.dockerBuilds).toBe(0);
  });

  it('a cached layer whose digest disagrees with the previous image is dropped', async () => {
    const helper = (await real.inspectImage(builderTag))?.id ?? '';
    const ctx = { engine: real, reporter: { emit: () => undefined }, labels: testLabels(), ids: { newId: () => `t${n++}` } };
    const meta = await readCacheMetadata(ctx, cacheVolume, helper);
    const both = meta.buildpacks.find((b) => b.key === 'kiln-test/cacher')?.layers.both;
    expect(both?.sha).toMatch(/^sha256:/);
    if (both !== undefined) both.sha = `sha256:${'0'.repeat(64)}`;
    await writeCacheMetadata(ctx, cacheVolume, helper, meta);
    const r = await build({ env: { CONF: 'b' }, noReuse: true });
    expect(r.lines.some((l) => l.startsWith("Dropping cached layer 'kiln-test/cacher:both'"))).toBe(true);
    expect(r.lines).toContain('[kiln-test/cacher] both fresh');
    expect(r.lines.some((l) => l.startsWith('[kiln-test/cacher] deps restored'))).toBe(true);
  });

  it('--clear-cache starts fresh: cache layers rebuilt and the extended images built again', async () => {
    const r = await build({ env: { CONF: 'b' }, clearCache: true });
    expect(r.lines).toContain('[kiln-test/cacher] deps fresh');
    expect(r.lines).toContain('[kiln-test/cacher] both fresh');
    expect(r.out.dockerBuilds).toBe(2);
  });
});
