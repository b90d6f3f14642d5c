/**
 * Module containers have pids and memory limits (issue 14 point 7): defaults when nothing is asked,
 * the flags change them, and a run that ends on a limit is reported as such (not as a plain exit 137);
 * a `--timeout` error names the module and the limit, and a module container killed from outside by
 * the daemon is a daemon problem, exit 4, not the buildpack's failure (point 11).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { ExitCode } from '../../src/errors.js';
import { runCli, sessionLeftovers } from '../fixtures/bad-input/run-cli.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, runId, testName } from '../helpers/test-labels.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const bases = useBusyboxImages(engine, { name: 'limits' });
const builderTag = `kiln-test/limits-builder:${testName('b')}`;
const appTag = `kiln-test/limits-app:${testName('a')}`;
const app = join(import.meta.dirname, '../fixtures/bad-input/app');
const fileLabel = { 'io.kiln.test': runId, 'io.kiln.test.file': testName('limits') };
const KILN_LABELS = Object.entries(fileLabel).map(([k, v]) => `${k}=${v}`).join(',');

function build(kilnCase: string, extra: string[] = [], onOutput?: (all: string) => void): ReturnType<typeof runCli> {
  return runCli(['build', appTag, '--builder', builderTag, '--path', app, '--env', `KILN_CASE=${kilnCase}`, ...extra], { KILN_LABELS }, onOutput);
}

beforeAll(async () => {
  await makeTestBuilder(engine, {
    buildpacks: [join(import.meta.dirname, '../fixtures/limits/bp')],
    extensions: [],
    orderToml: '[[order]]\n[[order.group]]\nid = "kiln-test/limits"\nversion = "1.0.0"\n',
    runImage: bases().run,
    tag: builderTag,
    labels: {},
    baseImage: bases().build,
  });
});

afterAll(async () => {
  await engine.removeImage(appTag, { force: true });
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine, fileLabel);
});

describe('module resource limits', () => {
  it('by default a module runs with 4096 pids and 4 GiB of memory', async () => {
    const r = await build('show-limits');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('pids.max=4096');
    expect(r.out).toContain(`memory.max=${4 * 1024 ** 3}`);
  });

  it('--pids-limit and --memory change them (and KILN_PIDS_LIMIT / KILN_MEMORY do too)', async () => {
    const r = await build('show-limits', ['--pids-limit', '100', '--memory', '256m']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('pids.max=100');
    expect(r.out).toContain(`memory.max=${256 * 1024 ** 2}`);
    const e = await runCli(['build', appTag, '--builder', builderTag, '--path', app, '--env', 'KILN_CASE=show-limits'], { KILN_LABELS, KILN_PIDS_LIMIT: '200', KILN_MEMORY: '1g' });
    expect(e.code, e.out).toBe(0);
    expect(e.out).toContain('pids.max=200');
    expect(e.out).toContain(`memory.max=${1024 ** 3}`);
  });

  it('a fork bomb in bin/detect is stopped at the pids limit and reported as such', async () => {
    const r = await build('fork-bomb', ['--pids-limit', '64']);
    expect(r.code, r.out).toBe(ExitCode.detectError);
    expect(r.out).toContain('killed: pids limit reached (64 processes and threads)');
    expect(r.out).toContain('kiln-test/limits@1.0.0');
    expect(r.out).toContain('bin/detect');
    expect(r.out).toContain('--pids-limit');
    expect(await sessionLeftovers(engine, fileLabel)).toEqual({ containers: [], images: [], volumes: [] });
  });

  it('a bin/build that runs out of memory is reported as killed: out of memory, not as exit 137', async () => {
    const r = await build('memory-hog', ['--memory', '32m']);
    expect(r.code, r.out).toBe(ExitCode.buildFailed);
    expect(r.out).toContain('killed: out of memory (its limit is 32 MiB)');
    expect(r.out).toContain('bin/build (buildpack kiln-test/limits@1.0.0)');
    expect(r.out).toContain('--memory');
    expect(r.out).not.toContain('exited with code 137');
    expect(await sessionLeftovers(engine, fileLabel)).toEqual({ containers: [], images: [], volumes: [] });
  });

  it('bad --pids-limit / --memory values exit 3 naming the flag', async () => {
    for (const [flag, value] of [['--pids-limit', 'many'], ['--memory', 'lots'], ['--memory', '1k']]) {
      const r = await build('show-limits', [flag as string, value as string]);
      expect(r.code, r.out).toBe(ExitCode.usage);
      expect(r.out).toContain(`${flag} "${value}"`);
    }
  });
});

describe('time limit and daemon-side kills', () => {
  it('a --timeout error names the module and the limit, not kiln\'s shell prelude', async () => {
    const r = await build('hang', ['--timeout', '2']);
    expect(r.code, r.out).toBe(ExitCode.generic);
    expect(r.out).toContain('failed to run /cnb/buildpacks/kiln-test_limits/1.0.0/bin/build (buildpack kiln-test/limits@1.0.0)');
    expect(r.out).toContain('within the limit of 2 s');
    expect(r.out).not.toContain('sh -c');
    expect(r.out.split('\n').find((l) => l.startsWith('ERROR:'))).not.toContain('sha256:');
  });

  it('a module container killed from outside (docker kill) is a daemon problem: exit 4, not bin/build failing', async () => {
    let killed = false;
    let killing: Promise<string[]> = Promise.resolve([]);
    const r = await build('slow', [], (all) => {
      if (killed || !all.includes('limits build: marker')) return;
      killed = true;
      // The running container whose command is the buildpack's bin/build (kiln's own helpers run too).
      const filter = Object.entries(fileLabel).flatMap(([k, v]) => ['--filter', `label=${k}=${v}`]);
      // Its output can arrive a moment before the daemon lists it as running: look again until it does.
      killing = (async () => {
        for (let i = 0; i < 50; i++) {
          const { stdout } = await run('docker', ['ps', '--no-trunc', '--format', '{{.ID}} {{.Command}}', ...filter]);
          const ids = stdout.split('\n').filter((l) => l.includes('kiln-test_limits/1.0.0/bin/build')).map((l) => l.split(' ')[0] as string);
          for (const id of ids) await run('docker', ['kill', id]);
          if (ids.length > 0) return ids;
          await new Promise((r) => setTimeout(r, 100));
        }
        return [];
      })();
    });
    expect(killed).toBe(true);
    expect(await killing).toHaveLength(1);
    expect(r.code, r.out).toBe(ExitCode.daemon);
    expect(r.out).toContain('killed from outside by the Docker daemon');
    expect(r.out).toContain('bin/build (buildpack kiln-test/limits@1.0.0)');
    expect(r.out).not.toContain('exited with code 137');
    expect(await sessionLeftovers(engine, fileLabel)).toEqual({ containers: [], images: [], volumes: [] });
  });
});
