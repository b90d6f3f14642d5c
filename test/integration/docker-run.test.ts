/**
 * The Docker adapter's container side on the real daemon (issue 2, item 9): a shell-script bin/detect
 * runs as uid 1000 with the app mounted read-only and writes a plan into a volume, read back through
 * the port; demultiplexed output; exit codes; abort and timeout remove the container; an unreachable
 * daemon is one KilnError naming it. Everything is labelled and removed; no leftovers by label.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { ExitCode, KilnError } from '../../src/errors.js';
import { makeTar, readTar } from '../../src/image/tar-files.js';
import type { PhaseContext } from '../../src/lifecycle/phase-context.js';
import { readFilesFromVolume, readFromVolume, seedVolumeFromImage, writeToVolume } from '../../src/lifecycle/container/volume-io.js';
import type { OutputStream } from '../../src/ports.js';
import { parseToml } from '../../src/cnb/toml.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, leftovers, testLabels, testName } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const labels = testLabels();
const ctx: PhaseContext = { engine, reporter: { emit: () => undefined }, labels, ids: { newId: () => 'id' } };
const bases = useBusyboxImages(engine);
const builderTag = `kiln-test/run-builder:${testName('b')}`;
const appVolume = testName('app');
const layersVolume = testName('layers');
let moduleDir = '';

const DETECT = `#!/bin/sh
# $1 = platform dir, $2 = plan path (buildpack.md, "Buildpack Interface"); CNB_BUILD_PLAN_PATH is the plan to write.
set -e
echo "detect as $(id -u):$(id -g) in $(pwd)"
test -f package.json || exit 100
if touch /workspace/should-fail 2>/dev/null; then echo "app is writable" >&2; else echo "app is read-only" >&2; fi
cat > "$CNB_BUILD_PLAN_PATH" <<PLAN
[[provides]]
name = "hello"

[[requires]]
name = "hello"
[requires.metadata]
version = "$(cat VERSION)"
PLAN
`;

beforeAll(async () => {
  moduleDir = await mkdtemp(join(tmpdir(), 'kiln-bp-'));
  await mkdir(join(moduleDir, 'bin'));
  await writeFile(join(moduleDir, 'buildpack.toml'), 'api = "0.10"\n[buildpack]\nid = "test/hello"\nversion = "0.0.1"\n');
  await writeFile(join(moduleDir, 'bin', 'detect'), DETECT, { mode: 0o755 });
  await makeTestBuilder(engine, {
    buildpacks: [moduleDir],
    extensions: [],
    orderToml: '[[order]]\n[[order.group]]\nid = "test/hello"\nversion = "0.0.1"\n',
    runImage: bases().run,
    tag: builderTag,
    labels,
  });
  await engine.createVolume(appVolume, labels);
  await engine.createVolume(layersVolume, labels);
  // The app belongs to the CNB user; a detect/ dir in /layers for the plan (ownership set explicitly:
  // a new volume's ownership is not to be trusted; docs/architecture.md, "Known traps").
  const u = { uid: 1000, gid: 1000 };
  await writeToVolume(ctx, {
    volume: appVolume,
    image: builderTag,
    dest: '/',
    tar: await makeTar([{ path: 'package.json', content: '{}\n', ...u }, { path: 'VERSION', content: '1.2.3\n', ...u }]),
  });
  await writeToVolume(ctx, { volume: layersVolume, image: builderTag, dest: '/', tar: await makeTar([{ path: 'detect', type: 'directory', ...u }]) });
});

afterAll(async () => {
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine);
  if (moduleDir !== '') await rm(moduleDir, { recursive: true, force: true });
});

function collect(): { lines: Array<[OutputStream, string]>; onLine: (s: OutputStream, l: string) => void } {
  const lines: Array<[OutputStream, string]> = [];
  return { lines, onLine: (s, l) => lines.push([s, l]) };
}

describe('runContainer', () => {
  it('runs a shell-script bin/detect as uid 1000 on a read-only app and its plan is read back from the volume', async () => {
    const out = collect();
    const result = await engine.runContainer({
      image: builderTag,
      cmd: ['/cnb/buildpacks/test_hello/0.0.1/bin/detect', '/platform', '/layers/detect/plan.toml'],
      user: '1000:1000',
      env: { CNB_BUILD_PLAN_PATH: '/layers/detect/plan.toml', CNB_BUILDPACK_DIR: '/cnb/buildpacks/test_hello/0.0.1' },
      workingDir: '/workspace',
      mounts: [
        { type: 'volume', source: appVolume, target: '/workspace', readOnly: true },
        { type: 'volume', source: layersVolume, target: '/layers' },
      ],
      labels,
      onLine: out.onLine,
    });
    expect(result.exitCode).toBe(0);
    // Order across the two streams is not guaranteed (separate pipes); compare them apart.
    expect(out.lines.filter(([s]) => s === 'stdout')).toEqual([['stdout', 'detect as 1000:1000 in /workspace']]);
    expect(out.lines.filter(([s]) => s === 'stderr')).toEqual([['stderr', 'app is read-only']]);
    const files = await readFilesFromVolume(ctx, { volume: layersVolume, image: builderTag, path: '/detect' });
    const text = files.get('detect/plan.toml')?.toString('utf8') ?? '';
    expect(text).toContain('[[provides]]\nname = "hello"');
    const parsed = parseToml(text, 'plan.toml');
    expect(parsed.value).toEqual({ provides: [{ name: 'hello' }], requires: [{ name: 'hello', metadata: { version: '1.2.3' } }] });
    expect(await readFilesFromVolume(ctx, { volume: layersVolume, image: builderTag, path: '/no/such/dir' })).toEqual(new Map());
  });

  it('keeps stdout and stderr apart and in order, flushes a last partial line, and returns the exit code', async () => {
    const out = collect();
    const script = 'for i in 1 2 3; do echo out$i; echo err$i >&2; done; printf "tail-no-newline"; printf "e\\xc3\\xa9" >&2; exit 7';
    const result = await engine.runContainer({ image: bases().build, cmd: ['sh', '-c', script], user: '1000:1000', labels, onLine: out.onLine });
    expect(result.exitCode).toBe(7);
    expect(out.lines.filter(([s]) => s === 'stdout').map(([, l]) => l)).toEqual(['out1', 'out2', 'out3', 'tail-no-newline']);
    expect(out.lines.filter(([s]) => s === 'stderr').map(([, l]) => l)).toEqual(['err1', 'err2', 'err3', 'eé']);
  });

  it('passes env, the user and the working directory, and runs without a network', async () => {
    const out = collect();
    const result = await engine.runContainer({
      image: bases().build,
      cmd: ['sh', '-c', 'echo "$GREETING|$(id -u):$(id -g)|$(pwd)|$(ls /sys/class/net | tr "\\n" " ")"'],
      user: '1000:1000',
      env: { GREETING: 'hello world' },
      workingDir: '/tmp',
      labels,
      onLine: out.onLine,
    });
    expect(result.exitCode).toBe(0);
    expect(out.lines).toEqual([['stdout', 'hello world|1000:1000|/tmp|lo ']]);
  });

  it('an onLine callback that throws rejects the run with its error and still removes the container', async () => {
    const err = await engine
      .runContainer({ image: bases().build, cmd: ['sh', '-c', 'echo one; echo two'], user: '1000:1000', labels, onLine: () => { throw new Error('renderer broke'); } })
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('renderer broke');
    expect((await leftovers(engine)).containers).toEqual([]);
  });

  it('a missing image is a missing-image KilnError naming it', async () => {
    const err = await engine.runContainer({ image: 'kiln-test/no-such-image:nope', cmd: ['true'], user: '1000:1000', labels }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(ExitCode.missingImage);
    expect((err as KilnError).message).toContain('kiln-test/no-such-image:nope');
  });

  it('a timeout kills and removes the container and names the image, command and limit', async () => {
    const started = Date.now();
    const err = await engine.runContainer({ image: bases().build, cmd: ['sleep', '30'], user: '1000:1000', labels, timeoutMs: 1500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).message).toContain(`sleep 30 in ${bases().build}`);
    expect((err as KilnError).message).toContain('1500 ms');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await leftovers(engine)).containers).toEqual([]);
  });

  it('aborting kills and removes the container and rejects as interrupted', async () => {
    const ac = new AbortController();
    const out = collect();
    const run = engine.runContainer({
      image: bases().build,
      cmd: ['sh', '-c', 'echo started; sleep 30'],
      user: '1000:1000',
      labels,
      signal: ac.signal,
      onLine: (s, l) => {
        out.onLine(s, l);
        if (l === 'started') ac.abort();
      },
    });
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(ExitCode.interrupted);
    expect(out.lines).toEqual([['stdout', 'started']]);
    expect((await leftovers(engine)).containers).toEqual([]);
  });
});

describe('archives', () => {
  it('putArchive takes a stream; getArchive of a file gives it as the tar root', async () => {
    const id = await engine.createContainer({ image: bases().build, cmd: ['true'], user: '0:0', labels });
    try {
      const tar = await makeTar([{ path: 'streamed.txt', content: 'via a stream\n', mode: 0o600, uid: 1000, gid: 1000 }]);
      await engine.putArchive(id, '/tmp', Readable.from([tar.subarray(0, 700), tar.subarray(700)]));
      const entries = await readTar(await engine.getArchive(id, '/tmp/streamed.txt'));
      expect(entries.map((e) => [e.path, e.mode & 0o777, e.uid, e.content.toString()])).toEqual([['streamed.txt', 0o600, 1000, 'via a stream\n']]);
    } finally {
      await engine.removeContainer(id);
    }
    await engine.removeContainer(id);
    expect(await engine.listContainers({ labels: [`io.kiln.test=${labels['io.kiln.test'] ?? ''}`] })).toEqual([]);
  });
});

describe('volume-io', () => {
  it('seedVolumeFromImage gives a new volume the ownership of an image directory; readFromVolume streams and cleans up', async () => {
    const volume = testName('seeded');
    await engine.createVolume(volume, labels);
    await seedVolumeFromImage(ctx, { volume, image: builderTag, path: '/layers' });
    await writeToVolume(ctx, { volume, image: builderTag, dest: '/', tar: await makeTar([{ path: 'note.txt', content: 'n\n' }]) });
    const out = collect();
    const r = await engine.runContainer({
      image: builderTag,
      cmd: ['sh', '-c', 'touch /layers/by-cnb && stat -c "%u:%g" /layers /layers/by-cnb'],
      user: '1000:1000',
      mounts: [{ type: 'volume', source: volume, target: '/layers' }],
      labels,
      onLine: out.onLine,
    });
    expect(r.exitCode).toBe(0);
    expect(out.lines).toEqual([['stdout', '1000:1000'], ['stdout', '1000:1000']]);
    const entries = await readTar(await readFromVolume(ctx, { volume, image: builderTag, path: '/' }));
    expect(entries.filter((e) => e.type === 'file').map((e) => e.path).sort()).toEqual(['kiln-volume/by-cnb', 'kiln-volume/note.txt']);
    // The stream ended only after its helper container was removed.
    expect((await leftovers(engine)).containers).toEqual([]);
    const files = await readFilesFromVolume(ctx, { volume, image: builderTag, path: '/' });
    expect([...files.keys()].sort()).toEqual(['by-cnb', 'note.txt']);
    // A stream destroyed half-way also removes its container.
    const half = await readFromVolume(ctx, { volume, image: builderTag, path: '/' });
    half.destroy();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await leftovers(engine)).containers).toEqual([]);
    await engine.removeVolume(volume);
  });
});

describe('an unreachable daemon', () => {
  it('on tcp is the same KilnError', async () => {
    const err = await createDockerEngine({ host: 'tcp://127.0.0.1:1' }).ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(ExitCode.daemon);
    expect((err as KilnError).message).toBe('failed to connect to the Docker daemon: no daemon answers at tcp://127.0.0.1:1 (ECONNREFUSED)');
  });

  it('is one KilnError naming DOCKER_HOST and the way to start a daemon', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///nonexistent.sock';
    try {
      const dead = createDockerEngine();
      for (const op of [() => dead.ping(), () => dead.inspectImage('x'), () => dead.runContainer({ image: 'x', cmd: ['true'], user: '1:1', labels })]) {
        const err = await op().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(KilnError);
        expect((err as KilnError).exitCode).toBe(ExitCode.daemon);
        expect((err as KilnError).message).toBe('failed to connect to the Docker daemon: no daemon answers at DOCKER_HOST=unix:///nonexistent.sock (ENOENT)');
        expect((err as KilnError).hint).toContain('scripts/ensure-docker.sh');
      }
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});

describe('cleanup', () => {
  it('leaves nothing labelled behind once removed', async () => {
    await engine.removeImage(builderTag, { force: true });
    await cleanupByLabel(engine);
    expect(await leftovers(engine)).toEqual({ containers: [], images: [], volumes: [] });
  });
});
