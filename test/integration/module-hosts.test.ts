/**
 * Kept module containers (issue 21 point 3) on the real daemon: a process run by exec gets its user,
 * env, working dir and output lines, and its exit code; what a module leaves running is killed when it
 * exits; a timeout, the memory limit and a kill from outside are told apart as for one-run containers;
 * a phase's runs reuse an idle container one at a time and closing the hosts leaves nothing behind.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { ExitCode, isErrorKind, type KilnError } from '../../src/errors.js';
import { moduleCommand } from '../../src/lifecycle/container/module-env.js';
import { openModuleHosts } from '../../src/lifecycle/container/module-hosts.js';
import type { PhaseContext } from '../../src/lifecycle/phase-context.js';
import type { ExecSpec, OutputStream } from '../../src/ports.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { cleanupByLabel, testLabels, testName } from '../helpers/test-labels.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const labels = { ...testLabels(), 'io.kiln.test.file': testName('hosts') };
const ctx: PhaseContext = { engine, reporter: { emit: () => undefined }, labels, ids: { newId: () => 'id' } };
const bases = useBusyboxImages(engine, { name: 'hosts' });
const USER = '1000:1000';

afterAll(async () => {
  await cleanupByLabel(engine, labels);
});

function container(limits: { pids?: number; memoryBytes?: number } = {}): { image: string; user: string; labels: Record<string, string>; limits: typeof limits } {
  return { image: bases().build, user: USER, labels, limits };
}

function exec(cmd: string[], extra: Partial<ExecSpec> = {}): ExecSpec & { lines: Array<[OutputStream, string]> } {
  const lines: Array<[OutputStream, string]> = [];
  return { cmd, user: USER, workingDir: '/tmp', onLine: (s, l) => void lines.push([s, l]), lines, ...extra };
}

async function liveContainers(): Promise<string[]> {
  return engine.listContainers({ labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
}

describe('kept module containers', () => {
  it('a run gets its user, env, working dir, output lines per stream and exit code', async () => {
    const hosts = openModuleHosts(ctx, ['/cnb/buildpacks/x/bin/build']);
    expect(hosts).toBeDefined();
    const e = exec(moduleCommand([], { GREETING: 'hi there' }, 'sh', ['-c', 'echo "$(id -u):$(id -g) $(pwd) $GREETING"; echo oops >&2; exit 7'], undefined, { kept: true }), { env: { GREETING: 'hi there' } });
    const r = await hosts?.run(container(), e);
    await hosts?.close();
    expect(r).toEqual({ exitCode: 7 });
    // Each stream's lines in order; the daemon does not order lines across stdout and stderr.
    expect(e.lines.filter(([s]) => s === 'stdout')).toEqual([['stdout', '1000:1000 /tmp hi there']]);
    expect(e.lines.filter(([s]) => s === 'stderr')).toEqual([['stderr', 'oops']]);
    expect(await liveContainers()).toEqual([]);
  });

  it('runs one after the other share a container; concurrent runs do not; what a run leaves running is killed', async () => {
    const hosts = openModuleHosts(ctx, []);
    const hostname = (cmd: string): ExecSpec & { lines: Array<[OutputStream, string]> } => exec(moduleCommand([], {}, 'sh', ['-c', cmd], undefined, { kept: true }));
    const first = hostname('hostname; sleep 300 >/dev/null 2>&1 &');
    await hosts?.run(container(), first);
    const second = hostname('hostname; ps -o args | grep -c "^sleep 300" || true');
    await hosts?.run(container(), second);
    expect(second.lines[0]).toEqual(first.lines[0]);
    // The first run's background sleep was killed when it exited.
    expect(second.lines[1]).toEqual(['stdout', '0']);
    const a = hostname('hostname; sleep 1');
    const b = hostname('hostname; sleep 1');
    await Promise.all([hosts?.run(container(), a), hosts?.run(container(), b)]);
    expect(a.lines[0]).not.toEqual(b.lines[0]);
    expect((await liveContainers()).length).toBe(2);
    await hosts?.close();
    expect(await liveContainers()).toEqual([]);
  });

  it('a timeout kills and removes the container and is a timeout error naming the run', async () => {
    const hosts = openModuleHosts(ctx, []);
    const err = (await hosts?.run(container(), exec(['sleep', '30'], { name: 'bin/build (buildpack x@1)', timeoutMs: 1500 })).catch((e: unknown) => e)) as KilnError;
    expect(isErrorKind(err, 'timeout')).toBe(true);
    expect(err.message).toContain('failed to run bin/build (buildpack x@1): it did not finish within the limit of 1500 ms; its container was killed and removed');
    expect(await liveContainers()).toEqual([]);
    await hosts?.close();
  });

  it('a run that exhausts the memory limit ends killed: memory, and its container is not reused', async () => {
    const hosts = openModuleHosts(ctx, []);
    const r = await hosts?.run(container({ memoryBytes: 32 * 1024 ** 2 }), exec(['sh', '-c', 'x=a; while :; do x="$x$x"; done'], { limits: { memoryBytes: 32 * 1024 ** 2 } }));
    expect(r?.killed).toBe('memory');
    expect(await liveContainers()).toEqual([]);
    await hosts?.close();
  });

  it('a container killed from outside during a run is a daemon problem (exit 4)', async () => {
    const hosts = openModuleHosts(ctx, ['kiln-test-outside-kill']);
    const running = hosts?.run(container(), exec(['sh', '-c', 'echo started; sleep 30'], { name: 'bin/build (buildpack x@1)' })).catch((e: unknown) => e);
    for (let i = 0; i < 50; i++) {
      const { stdout } = await run('docker', ['ps', '-q', '--no-trunc', '--filter', `label=io.kiln.test.file=${labels['io.kiln.test.file'] ?? ''}`]);
      const ids = stdout.split('\n').filter((l) => l !== '');
      if (ids.length > 0) {
        // Give the exec a moment to start before the kill.
        await new Promise((r) => setTimeout(r, 500));
        for (const id of ids) await run('docker', ['kill', id]);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const err = (await running) as KilnError;
    expect(isErrorKind(err, 'killed-by-daemon')).toBe(true);
    expect(err.exitCode).toBe(ExitCode.daemon);
    expect(err.message).toContain('bin/build (buildpack x@1)');
    await hosts?.close();
    expect(await liveContainers()).toEqual([]);
  });
});
