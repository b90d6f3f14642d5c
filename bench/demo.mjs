#!/usr/bin/env node
/**
 * kiln against `docker build` for the demo app (issue 21 point 4): examples/hello-python built by
 * `kiln build` with the default Debian builder (builders/debian: python-runtime extends the build and
 * run images, curl-tool the run image, python-app byte-compiles the app) and by `docker build` of the
 * equivalent bench/demo-app.Dockerfile on the same run image; cold, warm no-change (mean of 2), warm
 * after a one-file change. Run with `npm run bench:demo` (compiles src/ first). Needs the Debian stack
 * (made with `kiln stack create debian` when kiln/debian-* are missing, and kept, as scripts/demo.sh
 * does) and Debian's mirror for the apt-get steps of both (host network for them). Everything else it
 * makes is tagged kiln-bench/demo-* or labelled io.kiln.bench=demo and removed at the end.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { report, vsDocker } = await import(join(root, 'bench/vs-docker.mjs'));
const run = promisify(execFile);
const LABEL = 'io.kiln.bench=demo';
const STACK = { build: 'kiln/debian-build:bookworm', run: 'kiln/debian-run:bookworm' };
const BUILDER = 'kiln-bench/demo-builder:latest';
const APP = 'kiln-bench/demo-app:latest';
const DOCKER_APP = 'kiln-bench/demo-docker-app:latest';
const kiln = (...args) => run(process.execPath, [join(root, 'bin/kiln.js'), ...args], { env: { ...process.env, KILN_LABELS: LABEL }, maxBuffer: 64 * 1024 * 1024 });
const exists = (ref) => run('docker', ['image', 'inspect', ref]).then(() => true, () => false);

async function cleanup() {
  for (const ref of [APP, DOCKER_APP, BUILDER]) await run('docker', ['rmi', '-f', ref]).catch(() => undefined);
  const { stdout: images } = await run('docker', ['images', '-q', '--filter', `label=${LABEL}`]).catch(() => ({ stdout: '' }));
  for (const id of new Set(images.split('\n').filter(Boolean))) await run('docker', ['rmi', '-f', id]).catch(() => undefined);
  const { stdout: vols } = await run('docker', ['volume', 'ls', '-q', '--filter', `label=${LABEL}`]).catch(() => ({ stdout: '' }));
  for (const v of vols.split('\n').filter(Boolean)) await run('docker', ['volume', 'rm', '-f', v]).catch(() => undefined);
  // The cache volume of the app image (kiln labels it with io.kiln.cache=<image>).
  const { stdout: caches } = await run('docker', ['volume', 'ls', '-q', '--filter', `label=io.kiln.cache=${APP}`]).catch(() => ({ stdout: '' }));
  for (const v of caches.split('\n').filter(Boolean)) await run('docker', ['volume', 'rm', '-f', v]).catch(() => undefined);
}

const tmp = await mkdtemp(join(tmpdir(), 'kiln-bench-demo-'));
try {
  const t0 = performance.now();
  if (!(await exists(STACK.build)) || !(await exists(STACK.run))) {
    console.log('making the Debian stack (kiln stack create debian; kept afterwards)');
    await kiln('stack', 'create', 'debian');
  }
  await kiln('builder', 'create', BUILDER, '--config', join(root, 'builders/debian/builder.toml'), '-q');
  const rows = await vsDocker({
    kiln,
    app: join(root, 'examples/hello-python'),
    dir: join(tmp, 'app'),
    image: APP,
    builder: BUILDER,
    dockerfile: join(root, 'bench/demo-app.Dockerfile'),
    dockerTag: DOCKER_APP,
    buildArgs: ['--build-arg', `run_image=${STACK.run}`],
    change: 'notes.txt',
    // apt-get in the extensions' RUN steps and in the Dockerfile's needs Debian's mirror.
    network: 'host',
    kilnArgs: ['--extension-network', 'host'],
    label: LABEL,
  });
  const lines = report('demo app (Debian, python3 + curl)', rows);
  console.log('targets:');
  for (const l of lines) console.log(l);
  console.log(`(whole run ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
} finally {
  await cleanup();
  await rm(tmp, { recursive: true, force: true });
}
