/**
 * No hang, ever (issue 19 point 4): the second dockerd of scripts/remote-daemons.sh is frozen (SIGSTOP)
 * while a `kiln build` runs a slow buildpack on it. Ctrl-C then ends kiln with exit 130 once the
 * cleanup's calls reach their deadline (KILN_CLEANUP_TIMEOUT=2), naming what may be left and `kiln
 * prune`; a second Ctrl-C ends it at once. The daemon is thawed (SIGCONT) after each case, and `kiln
 * prune` then removes what the interrupted session left. The test timeout bounds "no hang".
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { cleanupByLabel, runId, testName } from '../helpers/test-labels.js';
import { childEnv, kiln, NO_REMOTE, remoteEnv, root, type KilnRun } from '../helpers/remote-daemons.js';

const { env: remote, skip } = remoteEnv();
const fixtures = join(root, 'test/fixtures/bad-input');

describe.skipIf(remote === undefined)(`a daemon that stops answering${skip === '' ? '' : ` (${skip})`}`, () => {
  // Collected even when skipped: nothing here may touch the (absent) daemon or the disk.
  const r = remote ?? NO_REMOTE;
  let work = '';
  const fileLabel = `io.kiln.test.file=${testName('hang')}`;
  const env = childEnv({ DOCKER_HOST: r.tcpHost, KILN_LABELS: `io.kiln.test=${runId},${fileLabel}`, KILN_CLEANUP_TIMEOUT: '2' });
  const direct = createDockerEngine({ host: r.tcpHost });
  const tags = ['build', 'run', 'builder', 'app'].map((w) => `kiln-test/hang-${w}:${testName('h')}`);
  const [buildImage, runImage, builder, app] = tags as [string, string, string, string];
  const thaw = (): void => {
    try {
      process.kill(r.dockerdPid, 'SIGCONT');
    } catch {
      // not running: nothing to thaw
    }
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'kiln-hang-it-'));
    const stack = await kiln(['stack', 'create', 'busybox', '--build-image', buildImage, '--run-image', runImage], env);
    expect(stack.code, stack.out).toBe(0);
    const toml = join(work, 'builder.toml');
    writeFileSync(toml, ['[[buildpacks]]', `uri = "${join(fixtures, 'matrix-bp')}"`, '[[order]]', '[[order.group]]', 'id = "kiln-test/matrix"', '[build]', `image = "${buildImage}"`, '[[run.images]]', `image = "${runImage}"`, ''].join('\n'));
    const created = await kiln(['builder', 'create', builder, '--config', toml], env);
    expect(created.code, created.out).toBe(0);
  }, 300_000);

  afterAll(async () => {
    thaw();
    for (const t of [...tags].reverse()) await direct.removeImage(t, { force: true });
    await cleanupByLabel(direct, { 'io.kiln.test': runId });
    if (work !== '') rmSync(work, { recursive: true, force: true });
  }, 120_000);

  /** Starts the slow build, freezes the daemon once the buildpack runs, sends `signals`, returns how kiln ended. */
  function interruptFrozen(signals: NodeJS.Signals[]): Promise<KilnRun> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [join(root, 'bin/kiln.js'), 'build', app, '--builder', builder, '--path', join(fixtures, 'app'), '--env', 'KILN_CASE=slow-build'], { env, cwd: root });
      let out = '';
      let fired = false;
      const onData = (b: Buffer): void => {
        out += b.toString();
        if (fired || !out.includes('marker: in build')) return;
        fired = true;
        process.kill(r.dockerdPid, 'SIGSTOP');
        // Apart in time: two pending signals of one kind would reach kiln as one.
        signals.forEach((s, i) => setTimeout(() => child.kill(s), 500 * i));
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('close', (code) => {
        thaw();
        resolve({ code: code ?? -1, out });
      });
    });
  }

  async function pruneLeftovers(): Promise<void> {
    const pruned = await kiln(['prune'], env);
    expect(pruned.code, pruned.out).toBe(0);
    expect(await direct.listContainers({ labels: [fileLabel, 'io.kiln.session'] })).toEqual([]);
    expect(await direct.listVolumes({ labels: [fileLabel, 'io.kiln.session'] })).toEqual([]);
  }

  it('Ctrl-C on a frozen daemon: exit 130 after the cleanup deadlines, saying what may be left and `kiln prune`', async () => {
    const res = await interruptFrozen(['SIGINT']);
    expect(res.code, res.out).toBe(130);
    expect(res.out).toContain('did not answer within');
    expect(res.out).toContain('kiln prune');
    await pruneLeftovers();
  }, 120_000);

  it('a second Ctrl-C exits at once, saying what may be left behind and `kiln prune`', async () => {
    const res = await interruptFrozen(['SIGINT', 'SIGINT']);
    expect(res.code, res.out).toBe(130);
    expect(res.out).toContain('SIGINT again; exiting without finishing the cleanup');
    expect(res.out).toContain('`kiln prune`');
    await pruneLeftovers();
  }, 120_000);
});
