/**
 * `--publish` against a real registry (issue 7): Debian's docker-registry on 127.0.0.1, the plain one of
 * scripts/registries.sh (test/helpers/registries.ts; the daemon treats 127.0.0.0/8 as insecure, so plain
 * HTTP works; stopped afterwards only when this file started it).
 * `kiln build --publish` pushes, the local copy is removed, `docker pull` brings it back and it runs;
 * `kiln rebase --publish` pushes the rebased image; DOCKER_HOST chooses the daemon (an explicit socket,
 * another path to it, and a missing one that fails naming DOCKER_HOST).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { makeTar } from '../../src/image/tar-files.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { runKiln } from '../helpers/cli.js';
import { PLAIN_REGISTRY, startRegistries, stopRegistries } from '../helpers/registries.js';
import { cleanupByLabel, runId, testLabels, testName } from '../helpers/test-labels.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const root = join(import.meta.dirname, '../..');
const fixtures = join(root, 'test/fixtures/build');
const bases = useBusyboxImages(engine);
const REGISTRY = PLAIN_REGISTRY;
/** Pids of the registries this file started. */
let startedPids: string[] = [];
const repo = `${REGISTRY}/kiln-test/publish-${runId}`;
const appRef = `${repo}:${testName('v')}`;
const builderTag = `kiln-test/publish-builder:${testName('b')}`;
const newRun = `kiln-test/publish-run:${testName('r')}`;
/** Image ids to remove in afterAll (pulled-back and replaced app images carry no test label). */
const ids = new Set<string>();
let tmp = '';

const cli = runKiln;

async function docker(...args: string[]): Promise<string> {
  return (await run('docker', args)).stdout.trim();
}

/** Removes the local image, pulls it back from the registry and returns its id. */
async function pullBack(ref: string): Promise<string> {
  const local = await engine.inspectImage(ref);
  if (local !== undefined) {
    ids.add(local.id);
    await engine.removeImage(ref, { force: true });
    await engine.removeImage(local.id, { force: true });
  }
  expect(await engine.inspectImage(ref)).toBeUndefined();
  await docker('pull', '-q', ref);
  const pulled = await engine.inspectImage(ref);
  if (pulled === undefined) throw new Error(`pull of ${ref} gave no image`);
  ids.add(pulled.id);
  return pulled.id;
}

beforeAll(async () => {
  startedPids = (await startRegistries()).pids;
  tmp = await mkdtemp(join(tmpdir(), 'kiln-publish-test-'));
  await makeTestBuilder(engine, {
    buildpacks: [join(fixtures, 'buildpacks/first')],
    extensions: [],
    orderToml: '[[order]]\n[[order.group]]\nid = "kiln-test/first"\nversion = "1.0.0"\n',
    runImage: bases().run,
    tag: builderTag,
    labels: {},
  });
  const context = await makeTar([
    { path: 'Dockerfile', content: `FROM ${bases().run}\nCOPY run-version /etc/run-version\n` },
    { path: 'run-version', content: 'published-v2\n' },
  ]);
  await engine.buildImage({ context, dockerfile: 'Dockerfile', buildArgs: {}, tag: newRun, labels: testLabels() });
}, 400_000);

afterAll(async () => {
  for (const ref of [appRef, builderTag, newRun, ...ids]) await engine.removeImage(ref, { force: true });
  await cleanupByLabel(engine);
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
  // The registry is the test's own (temp storage): drop the manifest so repeated runs stay small.
  try {
    const head = await fetch(`http://${appRef.replace(/:([^:/]+)$/, '').replace(REGISTRY, `${REGISTRY}/v2`)}/manifests/${appRef.split(':').at(-1) ?? ''}`, {
      method: 'HEAD',
      headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    const digest = head.headers.get('docker-content-digest');
    if (digest !== null) await fetch(`http://${REGISTRY}/v2/kiln-test/publish-${runId}/manifests/${digest}`, { method: 'DELETE' });
  } catch {
    // best effort
  }
  await stopRegistries(startedPids);
});

describe('publishing to a registry', () => {
  it('kiln build --publish pushes the app image; pulled back it runs', async () => {
    const labels = `io.kiln.test=${runId}`;
    const r = await cli(['build', appRef, '--builder', builderTag, '--path', join(fixtures, 'apps/simple'), '--publish', '-q'], { KILN_LABELS: labels, NO_COLOR: '1' });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const built = (await engine.inspectImage(appRef))?.id;
    const pulled = await pullBack(appRef);
    expect(pulled).toBe(built);
    expect(await docker('run', '--rm', '--network', 'none', appRef)).toBe('greet: from web');
  }, 300_000);

  it('kiln rebase --publish pushes the rebased image', async () => {
    const r = await cli(['rebase', appRef, '--run-image', newRun, '--force', '--publish', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as { imageId: string };
    ids.add(out.imageId);
    expect(await pullBack(appRef)).toBe(out.imageId);
    expect(await docker('run', '--rm', '--network', 'none', '--entrypoint', 'cat', appRef, '/etc/run-version')).toBe('published-v2');
    expect(await docker('run', '--rm', '--network', 'none', appRef)).toBe('greet: from web');
  }, 300_000);

  it('a push the registry refuses fails with the daemon\'s words', async () => {
    // Nothing listens on port 1: the daemon cannot reach that registry.
    const ref = `127.0.0.1:1/kiln-test/nowhere:${testName('n')}`;
    await engine.tagImage(bases().run, ref);
    try {
      const err = await engine.pushImage?.(ref).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String(err)).toMatch(/push image 127\.0\.0\.1:1\/kiln-test\/nowhere.*(refused|connect)/s);
    } finally {
      await engine.removeImage(ref);
    }
  }, 120_000);
});

describe('DOCKER_HOST', () => {
  it('an explicit unix socket, and another path to it, are used', async () => {
    const a = await cli(['inspect', appRef, '--json'], { DOCKER_HOST: 'unix:///var/run/docker.sock' });
    expect(a.code).toBe(0);
    const link = join(tmp, 'other.sock');
    await symlink('/var/run/docker.sock', link);
    const b = await cli(['inspect', appRef, '--json'], { DOCKER_HOST: `unix://${link}` });
    expect(b.code).toBe(0);
    expect(JSON.parse(b.out)).toEqual(JSON.parse(a.out));
  });

  it('a socket nobody listens on fails naming DOCKER_HOST (exit 4)', async () => {
    const r = await cli(['inspect', appRef], { DOCKER_HOST: `unix://${join(tmp, 'missing.sock')}`, NO_COLOR: '1' });
    expect(r.code).toBe(4);
    expect(r.err).toContain(`DOCKER_HOST=unix://${join(tmp, 'missing.sock')}`);
  });
});
