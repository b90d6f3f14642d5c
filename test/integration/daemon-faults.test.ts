/**
 * Daemon faults (issue 8, docs/reliability.md "Daemon faults"): with DOCKER_HOST pointing at a socket
 * nobody listens on, every command that needs the daemon fails with the one clear error and exit 4;
 * a daemon that starts resetting connections mid-phase (a restart, simulated by a fake engine: the
 * shared CI daemon cannot be restarted) gives a clear error and no hang, and the session cleanup still
 * runs. The timeout of each test bounds "no hang".
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/build-app.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { toDaemonError } from '../../src/docker/errors.js';
import { ExitCode, isKilnError, type KilnError } from '../../src/errors.js';
import type { ContainerEngine, KilnEvent } from '../../src/ports.js';
import { runCli } from '../fixtures/bad-input/run-cli.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, runId, testName } from '../helpers/test-labels.js';

const root = join(import.meta.dirname, '../..');
const fixtures = join(root, 'test/fixtures/bad-input');
const DOCKER_HOST = 'unix:///nonexistent.sock';

const COMMANDS: string[][] = [
  ['build', 'kiln-test/daemon-faults:1', '--builder', 'kiln-test/some-builder:1', '--path', join(fixtures, 'app')],
  ['detect', '--builder', 'kiln-test/some-builder:1', '--path', join(fixtures, 'app')],
  ['builder', 'create', 'kiln-test/daemon-faults-builder:1', '--config', join(root, 'test/fixtures/builder/builder.toml')],
  ['builder', 'inspect', 'kiln-test/some-builder:1'],
  ['stack', 'create', 'busybox', '--build-image', 'kiln-test/df-build:1', '--run-image', 'kiln-test/df-run:1'],
  ['rebase', 'kiln-test/daemon-faults:1'],
  ['inspect', 'kiln-test/daemon-faults:1'],
  ['sbom', 'download', 'kiln-test/daemon-faults:1', '--output-dir', '/tmp'],
  ['buildpack', 'package', 'kiln-test/df-bp:1', '--path', join(fixtures, 'matrix-bp')],
  ['extension', 'package', 'kiln-test/df-ext:1', '--path', join(fixtures, 'matrix-ext')],
];

describe('daemon unreachable at start', () => {
  it.each(COMMANDS.map((c) => [c.slice(0, 2).join(' '), c] as const))('%s exits 4 naming DOCKER_HOST', async (_name, args) => {
    const r = await runCli(args, { DOCKER_HOST });
    expect(r.code, r.out).toBe(ExitCode.daemon);
    expect(r.out).toContain('/nonexistent.sock');
    expect(r.out).toContain('Docker daemon');
  }, 20_000);
});

/**
 * The real engine until `breakAt` calls of `method` have started; from then on every call fails the way
 * the adapter reports a reset connection (a daemon restarting mid-phase).
 */
function flakyEngine(method: keyof ContainerEngine, breakAt: number): ContainerEngine {
  const real = createDockerEngine();
  let seen = 0;
  let broken = false;
  return new Proxy(real, {
    get(target, prop: string) {
      const v = (target as unknown as Record<string, unknown>)[prop];
      if (typeof v !== 'function') return v;
      return (...args: unknown[]): unknown => {
        if (prop === method && ++seen >= breakAt) broken = true;
        if (broken) return Promise.reject(toDaemonError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), `call ${prop}`, 'unix:///var/run/docker.sock'));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('daemon gone mid-build (the real engine, then ECONNRESET)', () => {
  const engine = createDockerEngine();
  const bases = useBusyboxImages(engine, { name: 'dfaults' });
  const builderTag = `kiln-test/dfaults-builder:${testName('b')}`;
  const labels = { 'io.kiln.test': runId, 'io.kiln.test.file': testName('dfaults') };

  beforeAll(async () => {
    await makeTestBuilder(engine, {
      buildpacks: [join(fixtures, 'matrix-bp')],
      extensions: [join(fixtures, 'matrix-ext')],
      orderToml: '[[order]]\n[[order.group]]\nid = "kiln-test/matrix"\nversion = "1.0.0"\n',
      runImage: bases().run,
      tag: builderTag,
      labels: {},
      baseImage: bases().build,
    });
  });
  afterAll(async () => {
    // The daemon never really went away: sweep what the "broken" session could not remove.
    await cleanupByLabel(engine, labels);
    await engine.removeImage(builderTag, { force: true });
  });

  it.each([
    // One module per lane here: plain runs (lifecycle/container/module-hosts.ts hostsForPhase).
    ['the first detect run', 'runContainer', 1],
    ['the build run', 'runContainer', 2],
    ['the third archive read (volume seeding)', 'getArchive', 3],
  ] as const)('during %s: exit 4 with the daemon error, no hang, cleanup attempted', async (_what, method, breakAt) => {
    const events: KilnEvent[] = [];
    const err = await buildApp(
      { engine: flakyEngine(method, breakAt), reporter: { emit: (e) => events.push(e) }, ids: { newId: () => `df${breakAt}${method.length}` } },
      { image: `kiln-test/daemon-faults:${testName('x')}`, builder: builderTag, path: join(fixtures, 'app'), env: {}, volumes: [], labels },
    ).catch((e: unknown) => e);
    expect(isKilnError(err), String(err)).toBe(true);
    expect((err as KilnError).exitCode, (err as Error).message).toBe(ExitCode.daemon);
    expect((err as Error).message).toContain('no daemon answers');
    // Cleanup ran, failed against the "gone" daemon, and said how to find the leftovers.
    expect(events.some((e) => e.type === 'warning' && e.message.includes('io.kiln.session='))).toBe(true);
  }, 60_000);
});
