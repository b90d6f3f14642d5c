/**
 * The README's first command, end to end: scripts/demo.sh (set-up skipped: the daemon answers and
 * kiln is built, as in CI) makes the Debian stack when it is missing, creates the default builder,
 * builds examples/hello-python (python-runtime extends the build and run images, curl-tool the run
 * image), runs the app with --network none and prints what it answers through `docker exec curl`.
 * Slow: Dockerfile builds run apt-get against Debian's mirror. Everything it makes is labelled or
 * tagged for this run and removed; kiln/debian-* stack images are reused, and removed only when this
 * test created them.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { cleanupByLabel, leftovers, runId, testName } from '../helpers/test-labels.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const root = join(import.meta.dirname, '../..');
const STACK = ['kiln/debian-build:bookworm', 'kiln/debian-run:bookworm'];
const builderTag = `kiln-test/demo-builder:${testName('b')}`;
const appTag = `kiln-test/demo-app:${testName('a')}`;
const fileLabel = { 'io.kiln.test': runId, 'io.kiln.test.file': testName('demo') };
let stackCreatedHere = false;

afterAll(async () => {
  await engine.removeImage(appTag, { force: true });
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine);
  if (stackCreatedHere) for (const ref of STACK) await engine.removeImage(ref, { force: true });
}, 120_000);

describe('scripts/demo.sh', () => {
  it('builds the example with both extension kinds, runs it and prints what it answers, leaving nothing behind', async () => {
    stackCreatedHere = (await Promise.all(STACK.map((r) => engine.inspectImage(r)))).some((i) => i === undefined);
    const env = {
      ...process.env,
      NO_COLOR: '1',
      KILN_DEMO_SKIP_SETUP: '1',
      KILN_DEMO_BUILDER: builderTag,
      KILN_DEMO_IMAGE: appTag,
      KILN_DEMO_LABEL: `io.kiln.test=${runId}`,
      KILN_LABELS: Object.entries(fileLabel).map(([k, v]) => `${k}=${v}`).join(','),
    };
    const { stdout, stderr } = await run('bash', ['scripts/demo.sh'], { cwd: root, env, maxBuffer: 64 * 1024 * 1024 });

    // What the running app answered, printed by the demo.
    expect(stdout).toContain('### the running app answers');
    expect(stdout).toMatch(/Hello from kiln! Built by the python-app buildpack\.\npython 3\.\d+\.\d+ on Debian GNU\/Linux 12 \(bookworm\), running as uid 1000\n/);
    // Phase headers of a build with both extension kinds, each closed with its elapsed time.
    for (const phase of ['DETECTING', 'GENERATING', 'EXTENDING (BUILD)', 'EXTENDING (RUN)', 'BUILDING', 'EXPORTING']) {
      expect(stderr).toContain(`===> ${phase}\n`);
      expect(stderr).toMatch(new RegExp(`     ${phase.toLowerCase().replace(/[()]/g, '\\$&')} took \\d`));
    }
    expect(stderr).toContain('[kiln-examples/python-app] using Python 3.');
    expect(stderr).toContain('  processes   web (default)');
    expect(stderr).toContain('kiln-examples/python-runtime@0.1.0: changed the build and run image');
    expect(stderr).toContain('kiln-examples/curl-tool@0.1.0: changed the run image');

    // curl is in the app image (run extension) and python3 too; the demo container is gone.
    const img = await engine.inspectImage(appTag);
    expect(img?.config.labels['io.buildpacks.build.metadata']).toContain('web');
    const left = await leftovers(engine, { 'io.kiln.test': runId });
    expect(left.containers).toEqual([]);
    const fileLeft = await leftovers(engine, fileLabel);
    expect({ ...fileLeft, volumes: fileLeft.volumes.filter((v) => !v.startsWith('kiln-cache-')) }).toEqual({ containers: [], images: fileLeft.images, volumes: [] });
  }, 900_000);
});
