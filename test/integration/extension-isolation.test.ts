/**
 * Issue 14 points 1 and 4 on the real daemon (docs/reliability.md "Dockerfile builds", "Hostile modules"):
 * - Dockerfile RUN steps get no network unless the user passes --extension-network host; host networking
 *   is refused (exit 3, naming the flag) when the daemon's API would be reachable from it (a TCP DOCKER_HOST);
 * - ADD <url> and COPY --from= in an extension Dockerfile exit 92 with file:line, unless
 *   --allow-dockerfile-remote;
 * - a layer name that would run code in a shell (`$(...)`) is only ever an argument: the build succeeds
 *   and nothing runs; a layer name with a quote is refused (exit 52) naming the buildpack and the layer.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, leftovers, runId, testName, type Leftovers } from '../helpers/test-labels.js';
import { runCli } from '../fixtures/bad-input/run-cli.js';
import { EXTEND_CACHE_LABEL } from '../../src/lifecycle/extend/cache.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const fixtures = join(import.meta.dirname, '../fixtures/isolation');
const bases = useBusyboxImages(engine, { name: 'isolation' });
const builderTag = `kiln-test/isolation-builder:${testName('b')}`;
const appTag = `kiln-test/isolation-app:${testName('a')}`;
const fileLabel = { 'io.kiln.test': runId, 'io.kiln.test.file': testName('isolation') };
const KILN_LABELS = Object.entries(fileLabel).map(([k, v]) => `${k}=${v}`).join(',');
const GENERATED = '/layers/generated/kiln-test_isolation-ext/run.Dockerfile';
let tmp = '';
let n = 0;

/**
 * A run.Dockerfile that records the RUN step's network interfaces in /etc/kiln-net.txt. The daemon's own
 * step cache ignores the network, so each case's RUN text is its own (and this run's).
 */
const netDockerfile = (tag: string): string => `ARG base_image\nFROM \${base_image}\nARG user_id\nARG group_id\nUSER 0:0\nRUN ls /sys/class/net > /etc/kiln-net.txt # ${tag} ${runId}\nUSER \${user_id}:\${group_id}\n`;

async function appWith(files: Record<string, string>): Promise<string> {
  const dir = join(tmp, `app${n++}`);
  await mkdir(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

async function inImage(image: string, script: string): Promise<string> {
  const { stdout } = await run('docker', ['run', '--rm', '--pull', 'never', '--network', 'none', '--label', `io.kiln.test=${runId}`, '--user', '0:0', '--entrypoint', '', image, 'sh', '-c', script]);
  return stdout;
}

async function build(image: string, app: string, flags: string[] = [], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return runCli(['build', image, '--builder', builderTag, '--path', app, ...flags], { KILN_LABELS, ...env });
}

/**
 * What the builds left with this file's label, except what a build keeps on purpose (README "Rebuilds and
 * the cache"): the app's cache volume and extended images kept for reuse (io.kiln.extend-cache).
 */
async function sessionLeftovers(): Promise<Leftovers> {
  for (let i = 0; ; i++) {
    const left = await leftovers(engine, fileLabel);
    const images: string[] = [];
    for (const id of left.images) if ((await engine.inspectImage(id))?.config.labels[EXTEND_CACHE_LABEL] === undefined) images.push(id);
    const out = { containers: left.containers, images, volumes: left.volumes.filter((v) => !v.startsWith('kiln-cache-')) };
    if (i >= 20 || (out.containers.length === 0 && out.images.length === 0 && out.volumes.length === 0)) return out;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function nothingLeft(image: string): Promise<void> {
  expect(await engine.inspectImage(image)).toBeUndefined();
  expect(await sessionLeftovers()).toEqual({ containers: [], images: [], volumes: [] });
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-isolation-'));
  await makeTestBuilder(engine, {
    buildpacks: [join(fixtures, 'bp')],
    extensions: [join(fixtures, 'ext')],
    orderToml: '[[order]]\n[[order.group]]\nid = "kiln-test/isolation"\nversion = "1.0.0"\n\n[[order-extensions]]\n[[order-extensions.group]]\nid = "kiln-test/isolation-ext"\nversion = "1.0.0"\n',
    runImage: bases().run,
    tag: builderTag,
    labels: {},
    baseImage: bases().build,
    uid: bases().uid,
    gid: bases().gid,
  });
});

afterAll(async () => {
  for (const suffix of ['-none', '-host', '-tcp', '-add', '-from', '-from-ok', '-layer', '-quote']) await engine.removeImage(`${appTag}${suffix}`, { force: true });
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine, fileLabel);
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
});

describe('Dockerfile builds: network', () => {
  it('RUN steps get no network by default (only the loopback interface)', async () => {
    const image = `${appTag}-none`;
    const r = await build(image, await appWith({ 'run.Dockerfile.in': netDockerfile('none') }));
    expect(r.code, r.out).toBe(0);
    expect(await inImage(image, 'cat /etc/kiln-net.txt')).toBe('lo\n');
    expect(await sessionLeftovers()).toEqual({ containers: [], images: [], volumes: [] });
  });

  it('--extension-network host gives RUN steps the daemon host\'s network', async () => {
    const image = `${appTag}-host`;
    const r = await build(image, await appWith({ 'run.Dockerfile.in': netDockerfile('host') }), ['--extension-network', 'host']);
    expect(r.code, r.out).toBe(0);
    // The daemon runs on this machine: its host network is ours.
    expect((await inImage(image, 'cat /etc/kiln-net.txt')).trim().split('\n').sort()).toEqual((await readdir('/sys/class/net')).sort());
  });

  it('host networking is refused with exit 3 naming the flag when DOCKER_HOST is TCP; nothing is created', async () => {
    const app = await appWith({ 'run.Dockerfile.in': netDockerfile('tcp') });
    for (const flags of [['--extension-network', 'host'], ['--network', 'host']]) {
      const r = await build(`${appTag}-tcp`, app, flags, { DOCKER_HOST: 'tcp://127.0.0.1:9' });
      expect(r.code, r.out).toBe(3);
      expect(r.out).toContain(`${flags.join(' ')} would give`);
      expect(r.out).toContain('path to the Docker daemon\'s API');
      expect(r.out).toContain('DOCKER_HOST=tcp://127.0.0.1:9');
    }
    const bad = await build(`${appTag}-tcp`, app, ['--extension-network', 'bridge']);
    expect(bad.code, bad.out).toBe(3);
    expect(bad.out).toContain('--extension-network "bridge" must be none or host');
    await nothingLeft(`${appTag}-tcp`);
  });
});

describe('Dockerfile builds: sources outside the build context', () => {
  it('ADD <url> exits 92 with the generated file and line, before any Dockerfile build', async () => {
    const image = `${appTag}-add`;
    const r = await build(image, await appWith({ 'run.Dockerfile.in': 'ARG base_image\nFROM ${base_image}\nADD http://127.0.0.1:9/tool /tool\n' }));
    expect(r.code, r.out).toBe(92);
    expect(r.out).toContain('kiln-test/isolation-ext');
    expect(r.out).toContain(`${GENERATED}:3: ADD http://127.0.0.1:9/tool`);
    expect(r.out).toContain('--allow-dockerfile-remote');
    expect(r.out).not.toContain('Applying run.Dockerfile');
    await nothingLeft(image);
  });

  it('COPY --from=<local image> exits 92 with file:line; with --allow-dockerfile-remote it builds', async () => {
    const dockerfile = `ARG base_image\nFROM \${base_image}\nARG user_id\nARG group_id\nUSER 0:0\nCOPY --from=${bases().build} /etc/passwd /etc/copied-passwd\nUSER \${user_id}:\${group_id}\n`;
    const app = await appWith({ 'run.Dockerfile.in': dockerfile });
    const refused = await build(`${appTag}-from`, app);
    expect(refused.code, refused.out).toBe(92);
    expect(refused.out).toContain(`${GENERATED}:6: COPY --from=${bases().build} copies from another image`);
    await nothingLeft(`${appTag}-from`);
    const image = `${appTag}-from-ok`;
    const allowed = await build(image, app, ['--allow-dockerfile-remote']);
    expect(allowed.code, allowed.out).toBe(0);
    expect(await inImage(image, 'head -1 /etc/copied-passwd')).toMatch(/^root:/);
  });
});

describe('layer names never reach a shell', () => {
  it('an ignored layer named $(...) is renamed by name and runs nothing', async () => {
    const image = `${appTag}-layer`;
    const r = await build(image, await appWith({ 'layer-name': '$(touch PWNED)' }));
    expect(r.code, r.out).toBe(0);
    expect(await inImage(image, 'ls -a /workspace; ls /layers/kiln-test_isolation')).toBe('.\n..\nlayer-name\nweb\n');
    expect(await sessionLeftovers()).toEqual({ containers: [], images: [], volumes: [] });
  });

  it('a layer name with a quote exits 52 naming the buildpack and the layer', async () => {
    const image = `${appTag}-quote`;
    const r = await build(image, await appWith({ 'layer-name': "it's" }));
    expect(r.code, r.out).toBe(52);
    expect(r.out).toContain('kiln-test/isolation');
    expect(r.out).toContain(`layer "it's" (/layers/kiln-test_isolation/it's.toml)`);
    await nothingLeft(image);
  });
});
