/**
 * Kept module containers (issue 21 point 3), the pool's decisions on a recording fake of the port: one
 * run at a time per container, reuse of an idle one with the same image, user, mounts, network and
 * limits, a container whose run ended on a limit or threw is removed and never reused, close removes
 * all; engines without exec get no hosts (each module then has a container of its own).
 */
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../../src/errors.js';
import { KEPT_PRELUDE_SCRIPT, moduleCommand, PRELUDE_SCRIPT } from '../../../src/lifecycle/container/module-env.js';
import { openModuleHosts } from '../../../src/lifecycle/container/module-hosts.js';
import type { PhaseContext } from '../../../src/lifecycle/phase-context.js';
import type { ContainerEngine, ContainerSpec, ExecSpec, RunResult } from '../../../src/ports.js';

function fakeCtx(results: Array<RunResult | Error> = []): { ctx: PhaseContext; started: ContainerSpec[]; execs: Array<{ id: string; cmd: string[] }>; removed: string[] } {
  const started: ContainerSpec[] = [];
  const execs: Array<{ id: string; cmd: string[] }> = [];
  const removed: string[] = [];
  const engine = {
    startContainer: (spec: ContainerSpec) => {
      started.push(spec);
      return Promise.resolve(`c${started.length}`);
    },
    execInContainer: async (id: string, spec: ExecSpec) => {
      execs.push({ id, cmd: spec.cmd });
      await new Promise((r) => setTimeout(r, 5));
      const r = results.shift() ?? { exitCode: 0 };
      if (r instanceof Error) throw r;
      return r;
    },
    removeContainer: (id: string) => {
      removed.push(id);
      return Promise.resolve();
    },
  } as unknown as ContainerEngine;
  return { ctx: { engine, reporter: { emit: () => undefined }, labels: { 'io.kiln.session': 's' }, ids: { newId: () => 'x' } }, started, execs, removed };
}

const box = { image: 'sha256:b', user: '1000:1000', labels: {}, mounts: [{ type: 'volume' as const, source: 'app', target: '/workspace' }] };
const exec = (name: string): ExecSpec => ({ cmd: [name], user: '1000:1000' });

describe('module hosts', () => {
  it('runs one after the other in one container whose command names the modules', async () => {
    const { ctx, started, execs, removed } = fakeCtx();
    const hosts = openModuleHosts(ctx, ['/cnb/buildpacks/a/bin/build', '/cnb/buildpacks/b/bin/build']);
    await hosts?.run(box, exec('a'));
    await hosts?.run(box, exec('b'));
    expect(started).toHaveLength(1);
    expect(started[0]?.cmd.slice(3)).toEqual(['kiln-modules', '/cnb/buildpacks/a/bin/build', '/cnb/buildpacks/b/bin/build']);
    expect(execs.map((e) => e.id)).toEqual(['c1', 'c1']);
    await hosts?.close();
    expect(removed).toEqual(['c1']);
  });

  it('gives concurrent runs and other mounts containers of their own', async () => {
    const { ctx, started } = fakeCtx();
    const hosts = openModuleHosts(ctx, []);
    await Promise.all([hosts?.run(box, exec('a')), hosts?.run(box, exec('b'))]);
    expect(started).toHaveLength(2);
    await hosts?.run({ ...box, mounts: [{ type: 'volume', source: 'app', target: '/workspace', readOnly: true }] }, exec('c'));
    expect(started).toHaveLength(3);
    await hosts?.run(box, exec('d'));
    expect(started).toHaveLength(3);
    await hosts?.close();
  });

  it('removes a container whose run ended on a limit or failed, and starts a new one for the next run', async () => {
    const { ctx, started, removed } = fakeCtx([{ exitCode: 137, killed: 'memory' }, new KilnError({ action: 'run x', cause: 'timeout', kind: 'timeout' })]);
    const hosts = openModuleHosts(ctx, []);
    expect(await hosts?.run(box, exec('a'))).toEqual({ exitCode: 137, killed: 'memory' });
    expect(removed).toEqual(['c1']);
    await expect(hosts?.run(box, exec('b'))).rejects.toThrow('timeout');
    expect(removed).toEqual(['c1', 'c2']);
    await hosts?.run(box, exec('c'));
    expect(started).toHaveLength(3);
    await hosts?.close();
    expect(removed).toEqual(['c1', 'c2', 'c3']);
  });

  it('is undefined for an engine that cannot exec', () => {
    const { ctx } = fakeCtx();
    const engine = { ...ctx.engine, startContainer: undefined, execInContainer: undefined } as unknown as ContainerEngine;
    expect(openModuleHosts({ ...ctx, engine }, [])).toBeUndefined();
  });
});

describe('the kept prelude', () => {
  it('always wraps the module in the kept script, which never execs it and kills what it left running', () => {
    const cmd = moduleCommand(['PATH=/bin'], { PATH: '/bin' }, '/cnb/bp/bin/build', ['/p'], undefined, { kept: true });
    expect(cmd.slice(0, 2)).toEqual(['sh', '-c']);
    expect(cmd[2]).toBe(KEPT_PRELUDE_SCRIPT);
    expect(KEPT_PRELUDE_SCRIPT).not.toContain('exec "$@"');
    expect(KEPT_PRELUDE_SCRIPT).toContain('kill -9 -1');
    // No dirs, no files, no done file; then env without the shell's own variables, the module and its args.
    expect(cmd.slice(4)).toEqual(['0', '0', '', 'env', '-u', 'OLDPWD', '-u', 'PWD', '-u', 'SHLVL', '-u', '_', '/cnb/bp/bin/build', '/p']);
    expect(moduleCommand(['PATH=/bin'], { PATH: '/bin' }, '/cnb/bp/bin/build', ['/p'], { dirs: ['/d'], files: [] })[2]).toBe(PRELUDE_SCRIPT);
  });
});

describe('error kinds', () => {
  it('exit code 130 is an interrupt unless a kind is given; other errors have the kind they are given', async () => {
    const { isErrorKind, isInterrupted } = await import('../../../src/errors.js');
    expect(isInterrupted(new KilnError({ action: 'build', cause: 'interrupted', exitCode: 130 }))).toBe(true);
    expect(isInterrupted(new KilnError({ action: 'build', cause: 'failed' }))).toBe(false);
    expect(isErrorKind(new KilnError({ action: 'copy', cause: 'no such file or directory: /x', kind: 'missing-path' }), 'missing-path')).toBe(true);
    expect(isErrorKind(new KilnError({ action: 'copy', cause: 'no such file or directory: /x' }), 'missing-path')).toBe(false);
    expect(isInterrupted(new Error('interrupted'))).toBe(false);
  });
});

describe('hostsForPhase', () => {
  it('keeps containers only when a lane runs more than one module', async () => {
    const { hostsForPhase } = await import('../../../src/lifecycle/container/module-hosts.js');
    const ctx = { engine: { startContainer: () => Promise.resolve('c'), execInContainer: () => Promise.resolve({ exitCode: 0 }), removeContainer: () => Promise.resolve() }, labels: {} } as unknown as Parameters<typeof hostsForPhase>[0];
    expect(hostsForPhase(ctx, ['/a/bin/build'], 1)).toBeUndefined();
    expect(hostsForPhase(ctx, ['/a/bin/detect', '/b/bin/detect', '/c/bin/detect'], 4)).toBeUndefined();
    expect(hostsForPhase(ctx, ['/a/bin/build', '/b/bin/build'], 1)).toBeDefined();
    expect(hostsForPhase(ctx, ['1', '2', '3', '4', '5'], 4)).toBeDefined();
  });
});
