/**
 * `kiln builder create` / `inspect` on the real daemon (issue 3): a builder with three buildpacks (two
 * components and a composite with a nested order), two extensions and an order-extensions, on the
 * busybox stack. Asserts the /cnb tree with modes and owners, order.toml/run.toml/stack.toml, the
 * build-config env, /layers and /workspace ownership, every label against pack's builder label shapes (platform.md, "Build Image"),
 * the same image id on a second create, and that inspect round-trips builder.toml. Error cases: a
 * missing base image, malformed builder.toml (file + line), a missing bin/detect — none leaves a tag.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuilder, type CreateBuilderResult } from '../../src/app/create-builder.js';
import { inspectBuilder } from '../../src/app/inspect-builder.js';
import { main } from '../../src/cli/main.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { ExitCode, KilnError } from '../../src/errors.js';
import { makeTar, readTar, type ReadTarEntry } from '../../src/image/tar-files.js';
import { parseOrderFile } from '../../src/cnb/order.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { testLabels, testName } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const labels = testLabels();
const bases = useBusyboxImages(engine, { name: 'builder' });
const FIXTURES = resolve('test/fixtures/builder');
const tags: string[] = [];
const containers: string[] = [];
let work = '';

afterAll(async () => {
  for (const c of containers) await engine.removeContainer(c);
  for (const t of tags) await engine.removeImage(t, { force: true });
  if (work !== '') await rm(work, { recursive: true, force: true });
});

function newTag(what: string): string {
  const t = `kiln-test/${what}:${testName('b')}`;
  tags.push(t);
  return t;
}

/** The fixture builder.toml with absolute module paths and this run's base images. */
async function writeConfig(name: string, edit: (text: string) => string = (t) => t): Promise<string> {
  const text = (await readFile(join(FIXTURES, 'builder.toml'), 'utf8'))
    .replace(/uri = "([^"]+)"/g, (_m, p: string) => `uri = "${join(FIXTURES, p)}"`)
    .replace('kiln-test/busybox-build:PLACEHOLDER', bases().build)
    .replace('kiln-test/busybox-run:PLACEHOLDER', bases().run);
  const path = join(work, name);
  await writeFile(path, edit(text));
  return path;
}

async function tree(image: string, path: string): Promise<Map<string, ReadTarEntry>> {
  const id = await engine.createContainer({ image, cmd: ['true'], user: '0:0', labels });
  containers.push(id);
  const entries = await readTar(await engine.getArchive(id, path));
  return new Map(entries.map((e) => [e.path, e]));
}

/** Runs the CLI in-process, capturing stdout (stderr is left alone). */
async function cli(args: string[]): Promise<{ code: number; stdout: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: string | Uint8Array): boolean => {
    chunks.push(typeof c === 'string' ? c : Buffer.from(c).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await main(['node', 'kiln', ...args]);
    return { code, stdout: chunks.join('') };
  } finally {
    process.stdout.write = write;
  }
}

const json = (labelsOf: Record<string, string>, k: string): unknown => JSON.parse(labelsOf[k] ?? 'null');

describe('kiln builder create', () => {
  let tag = '';
  let first: CreateBuilderResult;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'kiln-builder-it-'));
    tag = newTag('builder');
    first = await createBuilder(engine, { imageName: tag, configPath: await writeConfig('builder.toml'), labels, kilnVersion: '0.1.0' });
  });

  it('lays out /cnb with one root-owned, world-readable tree per module', async () => {
    const cnb = await tree(tag, '/cnb');
    const expected: Array<[string, number]> = [
      ['cnb', 0o755],
      ['cnb/buildpacks', 0o755],
      ['cnb/buildpacks/kiln-test_bp-a/1.0.0', 0o755],
      ['cnb/buildpacks/kiln-test_bp-a/1.0.0/buildpack.toml', 0o644],
      ['cnb/buildpacks/kiln-test_bp-a/1.0.0/bin/detect', 0o755],
      ['cnb/buildpacks/kiln-test_bp-a/1.0.0/bin/build', 0o755],
      ['cnb/buildpacks/kiln-test_bp-b/2.1.0/bin/build', 0o755],
      ['cnb/buildpacks/kiln-test_meta/0.3.0/buildpack.toml', 0o644],
      ['cnb/extensions/kiln-test_ext-x/0.1.0/bin/generate', 0o755],
      ['cnb/extensions/kiln-test_ext-x/0.1.0/extension.toml', 0o644],
      ['cnb/extensions/kiln-test_ext-y/0.2.0/generate/build.Dockerfile', 0o644],
      ['cnb/extensions/kiln-test_ext-y/0.2.0/detect/plan.toml', 0o644],
      ['cnb/order.toml', 0o644],
      ['cnb/run.toml', 0o644],
      ['cnb/stack.toml', 0o644],
      ['cnb/build-config/env/KILN_GREETING.default', 0o644],
    ];
    for (const [path, mode] of expected) {
      const e = cnb.get(path);
      expect(e, path).toBeDefined();
      expect({ path, mode: (e?.mode ?? 0) & 0o7777, uid: e?.uid, gid: e?.gid }).toEqual({ path, mode, uid: 0, gid: 0 });
    }
    for (const e of cnb.values()) expect([e.path, e.uid, e.gid, e.mode & 0o444]).toEqual([e.path, 0, 0, 0o444]);
    const modules = [...cnb.keys()].filter((p) => /^cnb\/(buildpacks|extensions)\/[^/]+\/[^/]+$/.test(p)).sort();
    expect(modules).toEqual([
      'cnb/buildpacks/kiln-test_bp-a/1.0.0',
      'cnb/buildpacks/kiln-test_bp-b/2.1.0',
      'cnb/buildpacks/kiln-test_meta/0.3.0',
      'cnb/extensions/kiln-test_ext-x/0.1.0',
      'cnb/extensions/kiln-test_ext-y/0.2.0',
    ]);
    expect(cnb.get('cnb/build-config/env/KILN_GREETING.default')?.content.toString()).toBe('hello');
    const order = parseOrderFile(cnb.get('cnb/order.toml')?.content.toString() ?? '', 'order.toml');
    expect(order.issues).toEqual([]);
    expect(order.value).toEqual({
      order: [
        { group: [{ id: 'kiln-test/meta', version: '0.3.0', optional: false }] },
        { group: [{ id: 'kiln-test/bp-b', version: '2.1.0', optional: false }] },
      ],
      orderExtensions: [
        { group: [{ id: 'kiln-test/ext-x', version: '0.1.0', optional: false }, { id: 'kiln-test/ext-y', version: '0.2.0', optional: false }] },
      ],
    });
    expect(cnb.get('cnb/run.toml')?.content.toString()).toMatch(new RegExp(`\\[\\[images\\]\\]\\s+image = "${bases().run}"\\s+mirrors = \\[ "mirror.example/run:1" \\]`));
    expect(cnb.get('cnb/stack.toml')?.content.toString()).toContain(`image = "${bases().run}"`);
  });

  it('gives /layers and /workspace to the CNB user, and keeps the base user', async () => {
    const layers = await tree(tag, '/layers');
    const workspace = await tree(tag, '/workspace');
    expect([layers.get('layers')?.uid, layers.get('layers')?.gid]).toEqual([bases().uid, bases().gid]);
    expect([workspace.get('workspace')?.uid, workspace.get('workspace')?.gid]).toEqual([bases().uid, bases().gid]);
    const info = await engine.inspectImage(tag);
    expect(info?.config.user).toBe(`${bases().uid}:${bases().gid}`);
    expect(info?.config.workingDir).toBe('/layers');
    expect(info?.config.env).toEqual(expect.arrayContaining([`CNB_USER_ID=${bases().uid}`, `CNB_GROUP_ID=${bases().gid}`]));
    // The CNB user can read and run a module (world-readable/executable, platform.md, "Buildpacks Directory Layout").
    const r = await engine.runContainer({
      image: tag,
      cmd: ['sh', '-c', 'cd /tmp && /cnb/buildpacks/kiln-test_bp-a/1.0.0/bin/build && test -w /layers && test -w /workspace'],
      user: `${bases().uid}:${bases().gid}`,
      labels,
    });
    expect(r.exitCode).toBe(0);
  });

  it('writes every builder label in the spec shapes', async () => {
    const info = await engine.inspectImage(tag);
    const l = info?.config.labels ?? {};
    const base = await engine.inspectImage(bases().build);
    const diffIds = info?.layers ?? [];
    // base layers + 5 modules + config + dirs
    expect(diffIds.slice(0, base?.layers.length)).toEqual(base?.layers);
    expect(diffIds).toHaveLength((base?.layers.length ?? 0) + 7);
    const bpLayers = json(l, 'io.buildpacks.buildpack.layers') as Record<string, Record<string, { layerDiffID: string }>>;
    expect(bpLayers).toEqual({
      'kiln-test/bp-a': { '1.0.0': { api: '0.10', targets: [{ os: 'linux', arch: '' }], layerDiffID: expect.stringMatching(/^sha256:/), homepage: 'https://example.com/bp-a', name: 'Test A' } },
      'kiln-test/bp-b': { '2.1.0': { api: '0.10', targets: [{ os: 'linux', arch: '' }], layerDiffID: expect.stringMatching(/^sha256:/), homepage: 'https://example.com/bp-b', name: 'Test B' } },
      'kiln-test/meta': {
        '0.3.0': {
          api: '0.10',
          order: [{ group: [{ id: 'kiln-test/bp-a', version: '1.0.0' }, { id: 'kiln-test/bp-b', version: '2.1.0', optional: true }] }],
          layerDiffID: expect.stringMatching(/^sha256:/),
          name: 'Meta',
        },
      },
    });
    const extLayers = json(l, 'io.buildpacks.extension.layers') as Record<string, Record<string, { layerDiffID: string }>>;
    expect(extLayers).toEqual({
      'kiln-test/ext-x': { '0.1.0': { api: '0.10', targets: [{ os: 'linux', arch: '' }], layerDiffID: expect.stringMatching(/^sha256:/), name: 'Extension ext-x' } },
      'kiln-test/ext-y': { '0.2.0': { api: '0.10', layerDiffID: expect.stringMatching(/^sha256:/) } },
    });
    // Each module's layerDiffID is one of the image's layers, in module order.
    const moduleDiffIds = [
      bpLayers['kiln-test/bp-a']?.['1.0.0']?.layerDiffID,
      bpLayers['kiln-test/bp-b']?.['2.1.0']?.layerDiffID,
      bpLayers['kiln-test/meta']?.['0.3.0']?.layerDiffID,
      extLayers['kiln-test/ext-x']?.['0.1.0']?.layerDiffID,
      extLayers['kiln-test/ext-y']?.['0.2.0']?.layerDiffID,
    ];
    expect(diffIds.slice(base?.layers.length, (base?.layers.length ?? 0) + 5)).toEqual(moduleDiffIds);
    expect(json(l, 'io.buildpacks.buildpack.order')).toEqual([
      { group: [{ id: 'kiln-test/meta', version: '0.3.0' }] },
      { group: [{ id: 'kiln-test/bp-b', version: '2.1.0' }] },
    ]);
    expect(json(l, 'io.buildpacks.buildpack.order-extensions')).toEqual([
      { group: [{ id: 'kiln-test/ext-x', version: '0.1.0' }, { id: 'kiln-test/ext-y', version: '0.2.0' }] },
    ]);
    expect(json(l, 'io.buildpacks.builder.metadata')).toEqual({
      description: 'kiln test builder',
      buildpacks: [
        { id: 'kiln-test/bp-a', version: '1.0.0', homepage: 'https://example.com/bp-a', name: 'Test A' },
        { id: 'kiln-test/bp-b', version: '2.1.0', homepage: 'https://example.com/bp-b', name: 'Test B' },
        { id: 'kiln-test/meta', version: '0.3.0', name: 'Meta' },
      ],
      extensions: [
        { id: 'kiln-test/ext-x', version: '0.1.0', name: 'Extension ext-x' },
        { id: 'kiln-test/ext-y', version: '0.2.0' },
      ],
      stack: { runImage: { image: bases().run, mirrors: ['mirror.example/run:1'] } },
      images: [{ image: bases().run, mirrors: ['mirror.example/run:1'] }],
      lifecycle: {
        version: '0.1.0',
        api: { buildpack: '0.12', platform: '0.13' },
        apis: { buildpack: { deprecated: [], supported: ['0.7', '0.8', '0.9', '0.10', '0.11', '0.12'] }, platform: { deprecated: [], supported: ['0.13'] } },
      },
      createdBy: { name: 'kiln', version: '0.1.0' },
    });
    // The build image's labels are kept; package labels are not set.
    expect(l['io.buildpacks.base.id']).toBe('io.kiln.stacks.busybox');
    expect(l['io.buildpacks.buildpack.metadata']).toBeUndefined();
    expect(l['io.kiln.builder.build-image']).toBe(bases().build);
  });

  it('gives the same image id when created twice', async () => {
    const again = newTag('builder-again');
    const second = await createBuilder(engine, { imageName: again, configPath: await writeConfig('builder2.toml'), labels, kilnVersion: '0.1.0' });
    expect(second.imageId).toBe(first.imageId);
    expect((await engine.inspectImage(again))?.id).toBe(first.imageId);
  });

  it('inspect round-trips builder.toml', async () => {
    const s = await inspectBuilder(engine, tag);
    expect(s.buildImage).toBe(bases().build);
    expect(s.cnbUser).toEqual({ uid: bases().uid, gid: bases().gid });
    expect(s.description).toBe('kiln test builder');
    expect(s.runImages).toEqual([{ image: bases().run, mirrors: ['mirror.example/run:1'] }]);
    expect(s.buildpacks.map((b) => `${b.id}@${b.version}`)).toEqual(['kiln-test/bp-a@1.0.0', 'kiln-test/bp-b@2.1.0', 'kiln-test/meta@0.3.0']);
    expect(s.extensions.map((b) => `${b.id}@${b.version}`)).toEqual(['kiln-test/ext-x@0.1.0', 'kiln-test/ext-y@0.2.0']);
    expect(s.order).toEqual(first.plan.order);
    expect(s.orderExtensions).toEqual(first.plan.orderExtensions);
    expect(s.buildpacks.find((b) => b.id === 'kiln-test/meta')?.order).toEqual([
      { group: [{ id: 'kiln-test/bp-a', version: '1.0.0', optional: false }, { id: 'kiln-test/bp-b', version: '2.1.0', optional: true }] },
    ]);
    expect(s.warnings).toEqual([]);
    // `kiln builder inspect --json` prints the same summary on stdout.
    const { code, stdout } = await cli(['builder', 'inspect', '--json', tag]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(JSON.parse(JSON.stringify(s)));
    const text = await cli(['builder', 'inspect', tag]);
    expect(text.stdout).toContain('kiln-test/meta@0.3.0  api 0.10  Meta  (composite)');
    expect(text.stdout).toContain(`CNB user: ${bases().uid}:${bases().gid}`);
  });
});

describe('kiln builder create errors', () => {
  async function failure(p: Promise<unknown>): Promise<KilnError> {
    const e: unknown = await p.then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(KilnError);
    return e as KilnError;
  }

  it('names a missing build image and how to create it, and tags nothing', async () => {
    const t = newTag('nobase');
    const cfg = await writeConfig('nobase.toml', (x) => x.replace(bases().build, 'kiln-test/absent-build:nope'));
    const e = await failure(createBuilder(engine, { imageName: t, configPath: cfg, labels, kilnVersion: '0.1.0' }));
    expect(e.exitCode).toBe(ExitCode.missingImage);
    expect(e.message).toContain('kiln-test/absent-build:nope');
    expect(e.hint).toContain('kiln stack create busybox');
    expect(await engine.inspectImage(t)).toBeUndefined();
  });

  it('refuses a build image without the programs of the base-image contract (no sh on its PATH), naming it, and tags nothing', async () => {
    const t = newTag('nosh');
    const base = newTag('base-nosh');
    const context = await makeTar([{ path: 'Dockerfile', content: `FROM ${bases().build}\nENV PATH=/nowhere\n` }]);
    await engine.buildImage({ context, dockerfile: 'Dockerfile', buildArgs: {}, tag: base, labels });
    const cfg = await writeConfig('nosh.toml', (x) => x.replace(bases().build, base));
    const e = await failure(createBuilder(engine, { imageName: t, configPath: cfg, labels, kilnVersion: '0.1.0' }));
    expect(e.exitCode).toBe(ExitCode.config);
    expect(e.message).toContain(`use build image (named in ${cfg}) ${base}`);
    expect(e.message).toContain('has no sh on its PATH');
    expect(e.message).toContain('module prelude');
    expect(await engine.inspectImage(t)).toBeUndefined();
    // The check's container is gone (the others are the tree() containers above, removed in afterAll).
    expect((await engine.listContainers({ labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`) })).filter((c) => !containers.includes(c))).toEqual([]);
  });

  it('names file, key and line of a malformed builder.toml', async () => {
    const t = newTag('bad');
    const cfg = await writeConfig('bad.toml', (x) => x.replace('description = "kiln test builder"', 'description = 42'));
    const e = await failure(createBuilder(engine, { imageName: t, configPath: cfg, labels, kilnVersion: '0.1.0' }));
    expect(e.exitCode).toBe(ExitCode.config);
    expect(e.message).toContain(`${cfg}:1: description:`);
    expect(await engine.inspectImage(t)).toBeUndefined();
    const viaCli = await cli(['builder', 'create', t, '--config', cfg]);
    expect(viaCli.code).toBe(ExitCode.config);
    expect(await engine.inspectImage(t)).toBeUndefined();
  });

  it('refuses a buildpack without bin/detect, naming it', async () => {
    const t = newTag('nodetect');
    const dir = join(work, 'bp-nodetect');
    await mkdir(join(dir, 'bin'), { recursive: true });
    await cp(join(FIXTURES, 'bp-b', 'buildpack.toml'), join(dir, 'buildpack.toml'));
    await cp(join(FIXTURES, 'bp-b', 'bin', 'build'), join(dir, 'bin', 'build'));
    const cfg = await writeConfig('nodetect.toml', (x) => x.replace(join(FIXTURES, 'bp-b'), dir));
    const e = await failure(createBuilder(engine, { imageName: t, configPath: cfg, labels, kilnVersion: '0.1.0' }));
    expect(e.exitCode).toBe(ExitCode.config);
    expect(e.message).toMatch(/buildpacks\[1\]\.uri: buildpack kiln-test\/bp-b@2\.1\.0 \(.*\) has no bin\/detect/);
    expect(await engine.inspectImage(t)).toBeUndefined();
  });
});
