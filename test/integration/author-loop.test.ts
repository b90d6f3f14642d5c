/**
 * The authors' loop (issue 20 points 2, 3 and 5) on the shipped busybox builder made from the test
 * bases: `kiln generate` shows exactly what a fixture extension's bin/generate writes (and --output writes
 * it), `kiln extension lint --app` lints what bin/generate emits with file:line, and `kiln build --watch`
 * rebuilds after a file change and leaves nothing running on SIGINT. Nothing is built by generate and
 * nothing is left behind by any of them.
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { runKiln, type CliRun } from '../helpers/cli.js';
import { cleanupByLabel, runId, testLabels } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const root = join(import.meta.dirname, '../..');
const fixtures = join(root, 'test/fixtures/authors');
const bases = useBusyboxImages(engine, { name: 'authors' });
const builder = `kiln-test/authors-builder:${runId}`;
const watchImage = `kiln-test/authors-watch:${runId}`;
const labels = testLabels();
let tmp = '';

function cli(args: string[]): Promise<CliRun> {
  return runKiln(args, { NO_COLOR: '1', KILN_LABELS: `io.kiln.test=${runId}` });
}

/** Containers and volumes of this run, and ephemeral builders. */
async function leftovers(): Promise<{ containers: number; volumes: number; ephemeral: number }> {
  const filter = { labels: [`io.kiln.test=${runId}`] };
  const caches = (await engine.listVolumes({ labels: [...filter.labels, 'io.kiln.cache'] })).length;
  return {
    containers: (await engine.listContainers(filter)).length,
    volumes: (await engine.listVolumes(filter)).length - caches,
    ephemeral: (await engine.listImages({ labels: ['io.kiln.ephemeral-builder'] })).length,
  };
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-authors-'));
  const shipped = join(root, 'builders/busybox');
  const config = join(tmp, 'builder.toml');
  const text = (await readFile(join(shipped, 'builder.toml'), 'utf8'))
    .replace(/uri = "([^"]+)"/g, (_m, p: string) => `uri = "${join(shipped, p)}"`)
    .replace('kiln/busybox-build:latest', bases().build)
    .replace('kiln/busybox-run:latest', bases().run);
  await writeFile(config, text);
  const r = await cli(['builder', 'create', builder, '--config', config, '--pull-policy', 'never']);
  expect(r.code, r.err).toBe(0);
}, 120_000);

afterAll(async () => {
  for (const t of [watchImage, builder]) await engine.removeImage(t, { force: true });
  await cleanupByLabel(engine, labels);
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
}, 120_000);

describe('kiln generate (issue 20 point 2)', () => {
  it('shows exactly the Dockerfiles and build args a fixture extension writes, and builds nothing', async () => {
    const before = await leftovers();
    const app = join(root, 'examples/hello-shell');
    const out = join(tmp, 'generated');
    const r = await cli(['generate', '-B', builder, '--path', app, '--extension', join(fixtures, 'emit-ext'), '--output', out, '--json', '--pull-policy', 'never']);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out) as { extensions: { id: string; dockerfiles: { kind: string; text: string; appliesTo: string; args: { name: string; value: string }[] }[] }[] };
    const emitted = report.extensions.find((e) => e.id === 'fixture/emit');
    const script = await readFile(join(fixtures, 'emit-ext/bin/generate'), 'utf8');
    const between = (start: string): string => script.slice(script.indexOf('\n', script.indexOf(start)) + 1, script.indexOf('DF\n', script.indexOf(start)));
    expect(emitted?.dockerfiles.map((d) => d.kind)).toEqual(['build', 'run']);
    expect(emitted?.dockerfiles[0]?.text).toBe(between('build.Dockerfile'));
    expect(emitted?.dockerfiles[1]?.text).toBe(between('run.Dockerfile'));
    expect(emitted?.dockerfiles[0]?.appliesTo).toBe(builder);
    expect(emitted?.dockerfiles[1]?.appliesTo).toBe(bases().run);
    expect(emitted?.dockerfiles[0]?.args.map((a) => a.name)).toEqual(['base_image', 'build_id', 'user_id', 'group_id', 'TOOL_VERSION']);
    expect(emitted?.dockerfiles[0]?.args.at(-1)?.value).toBe('1.2.3');
    expect(await readFile(join(out, 'fixture_emit/build.Dockerfile'), 'utf8')).toBe(between('build.Dockerfile'));
    expect(await readFile(join(out, 'fixture_emit/extend-config.toml'), 'utf8')).toContain('value = "1.2.3"');
    // Nothing built (no Dockerfile applied), nothing left.
    expect(r.err).not.toContain('Applying');
    expect(await leftovers()).toEqual(before);
  });
});

describe('kiln extension lint --app (issue 20 point 3)', () => {
  it('lints what bin/generate emits for the app, with the emitted file and line', async () => {
    const r = await cli(['extension', 'lint', join(fixtures, 'root-ext'), '--app', join(root, 'examples/hello-shell'), '-B', builder, '--pull-policy', 'never']);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/root-ext\/bin\/generate -> run\.Dockerfile:3: error: the run image is left as root.*\[run-left-as-root\] \(image_extension\.md, "Dockerfile Requirements"\)/);
  });
});

describe('kiln build --extension DIR, iterating (issue 20 point 4)', () => {
  it('after a one-line edit of one generate script, the second build reuses everything else', async () => {
    const image = `kiln-test/authors-iterate:${runId}`;
    const x = join(tmp, 'ext-x');
    await cp(join(fixtures, 'ext-x'), x, { recursive: true });
    const args = ['build', image, '-B', builder, '--path', join(root, 'examples/hello-shell'), '--extension', x, '--extension', join(fixtures, 'ext-y'), '--pull-policy', 'never'];
    try {
      const first = await cli(args);
      expect(first.code, first.err).toBe(0);
      expect(first.err).toContain('Applying run.Dockerfile of fixture/x');
      expect(first.err).toContain('Applying run.Dockerfile of fixture/y');
      const script = join(x, 'bin/generate');
      await writeFile(script, (await readFile(script, 'utf8')).replace('x-1', 'x-2'));
      const second = await cli(args);
      expect(second.code, second.err).toBe(0);
      // y runs first (the last --extension given runs first): its application is reused; x's is redone.
      expect(second.err).toMatch(/Reusing the extended run image of fixture\/y/);
      expect(second.err).toContain('Applying run.Dockerfile of fixture/x');
      expect(second.err).toContain("Reusing layer 'kiln-examples/shell-app:tools'");
      const cat = async (path: string): Promise<string> => (await new Promise<string>((resolve, reject) => {
        const c = spawn('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'cat', image, path]);
        let out = '';
        c.stdout.on('data', (d: Buffer) => (out += d.toString()));
        c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`cat ${path} exited ${code}`))));
      })).trim();
      expect(await cat('/etc/x.txt')).toBe('x-2');
      expect(await cat('/etc/y.txt')).toBe('y-1');
    } finally {
      await engine.removeImage(image, { force: true });
    }
  });
});

describe('kiln build --watch (issue 20 point 5)', () => {
  it('rebuilds after a file change, runs each new image with --run, and leaves nothing running on SIGINT', async () => {
    const app = join(tmp, 'watch-app');
    await cp(join(fixtures, 'watch-app'), app, { recursive: true });
    const child = spawn('node', ['bin/kiln.js', 'build', watchImage, '-B', builder, '--path', app, '--watch', '--run', '--pull-policy', 'never'], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', KILN_LABELS: `io.kiln.test=${runId}` },
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const waitFor = async (pattern: RegExp, count: number): Promise<void> => {
      for (let i = 0; i < 600 && (err.match(new RegExp(pattern, 'g')) ?? []).length < count; i++) await new Promise((r) => setTimeout(r, 200));
    };
    const appContainers = (): Promise<string[]> => engine.listContainers({ labels: [`io.kiln.test=${runId}`, 'io.kiln.dev-app'] });
    await waitFor(/\[app\] watch app v1/, 1);
    expect(await appContainers()).toHaveLength(1);
    const first = (await engine.inspectImage(watchImage))?.id;
    await writeFile(join(app, 'run.sh'), '#!/bin/sh\necho "watch app v2"\nexec sleep 300\n');
    await waitFor(/\[app\] watch app v2/, 1);
    // The container of the first image was replaced, not added to.
    expect(await appContainers()).toHaveLength(1);
    expect(err).toContain('changed: run.sh; building again');
    const second = (await engine.inspectImage(watchImage))?.id;
    expect(second).not.toBe(first);
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    expect(code).toBe(130);
    expect(await appContainers()).toEqual([]);
    expect((await leftovers()).containers).toBe(0);
  }, 300_000);
});
