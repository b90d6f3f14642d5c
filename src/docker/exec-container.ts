/**
 * A process run in a kept container (issue 21 point 3: an exec costs about a quarter of a container
 * start): attached from its start (hijacked exec stream), demultiplexed per line, its exit code from the
 * exec's inspect. What runContainer guarantees holds: an abort, a timeout or the pids limit kills the
 * process, here by killing the whole container (the process's children die with it; the caller removes
 * the container), and a death by signal is examined for the OOM killer or a kill from outside.
 */
import type Docker from 'dockerode';
import { isKilnError } from '../errors.js';
import type { ContainerSpec, ExecSpec, RunResult } from '../ports.js';
import { examineExecExit, watchPids } from './container-exit.js';
import { attachedLines } from './demux.js';
import { guardRun, interruptedError, limitVerdict } from './run-guard.js';
import type { RunDeps } from './run-container.js';

function describe(spec: ExecSpec): string {
  return spec.name ?? spec.cmd.join(' ');
}

/** Creates and starts a container to exec in; a container that does not start is removed. */
export async function startContainer(deps: RunDeps, spec: ContainerSpec): Promise<string> {
  const id = await deps.create(spec);
  try {
    await deps.docker.getContainer(id).start();
    return id;
  } catch (e) {
    await deps.remove(id).catch(() => undefined);
    throw deps.wrap(e, `start a container of ${spec.image}`);
  }
}

/** The exec's exit code once the daemon has it (it can lag the end of the output stream a little). */
async function exitCodeOf(exec: Docker.Exec, abortSignal: AbortSignal): Promise<number> {
  for (let i = 0; ; i++) {
    const info = await exec.inspect({ abortSignal });
    if (!info.Running && typeof info.ExitCode === 'number') return info.ExitCode;
    if (i >= 100) return -1;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function execInContainer(deps: RunDeps, id: string, spec: ExecSpec): Promise<RunResult> {
  const what = describe(spec);
  if (spec.signal?.aborted) throw interruptedError(what);
  const container = deps.docker.getContainer(id);
  // Every request of this exec; aborted when it ends, so none keeps kiln running (run-container.ts does the same).
  const calls = new AbortController();
  const kill = (): Promise<unknown> =>
    deps.deadline !== undefined ? deps.deadline.run(`kill container ${id.slice(0, 12)}`, (abortSignal) => container.kill({ abortSignal })) : container.kill({ abortSignal: calls.signal });
  const guard = guardRun(what, spec, kill);
  const { stopped } = guard;
  let pids: ReturnType<typeof watchPids> | undefined;
  let output: NodeJS.ReadableStream | undefined;
  let lines: ReturnType<typeof attachedLines> | undefined;
  try {
    const exec = await Promise.race([
      container.exec({
        abortSignal: calls.signal,
        Cmd: spec.cmd,
        User: spec.user,
        Env: Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`),
        WorkingDir: spec.workingDir ?? '',
        AttachStdin: false,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
      }),
      stopped,
    ]);
    output = (await Promise.race([exec.start({ hijack: true, stdin: false, abortSignal: calls.signal }), stopped])) as NodeJS.ReadableStream;
    // As in runContainer: a throwing callback is kept and rethrown once the process is done.
    lines = attachedLines(output, spec.onLine);
    if (spec.limits?.pids !== undefined) pids = watchPids(container, spec.limits.pids, () => container.kill().catch(() => undefined));
    await Promise.race([lines.ended, stopped]);
    lines.end();
    const exitCode = await Promise.race([exitCodeOf(exec, calls.signal), stopped]);
    if (guard.error() !== undefined) throw guard.error();
    if (lines.error() !== undefined) throw lines.error();
    const unexpected = exitCode !== 0 && !(spec.answerCodes ?? []).includes(exitCode) && exitCode > 128;
    const killed = await limitVerdict(exitCode, pids, unexpected ? () => examineExecExit(deps.docker, id, exec.id, exitCode, what) : undefined);
    return killed !== undefined ? { exitCode, killed } : { exitCode };
  } catch (e) {
    if (guard.error() !== undefined) throw guard.error();
    if (isKilnError(e) || (lines !== undefined && e === lines.error())) throw e;
    throw deps.wrap(e, `run ${what}`);
  } finally {
    guard.release();
    pids?.stop();
    calls.abort();
    (output as { destroy?: () => void } | undefined)?.destroy?.();
  }
}
